"""Curves (PNG) and a short Markdown report for one (task, algorithm) run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

PANELS = ("upper_loss", "test_accuracy", "test_auc", "grad_phi_norm", "hypergrad_norm_estimate", "phi", "y_error")


def _median(series) -> np.ndarray:
    return np.nanmedian(series.cpu().numpy(), axis=1) if series.numel() else np.array([])


def plot_curves(trace, path: Path, smoothness: dict | None = None) -> list[str]:
    """Every run of each available panel against oracle calls (median run); returns panel names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = trace.series
    names = [n for n in PANELS if n in s and bool(np.isfinite(s[n].cpu().numpy()).any())]
    extra = 1 if smoothness else 0
    fig, axes = plt.subplots(1, len(names) + extra, figsize=(3.6 * (len(names) + extra), 3.2), squeeze=False)
    calls = _median(s["oracle_calls"])
    for ax, name in zip(axes[0], names):
        values = s[name].cpu().numpy()
        ax.plot(calls, values, lw=1, alpha=0.8)  # one line per run: outcomes can be bimodal
        ax.set_xlabel("oracle calls (median run)")
        ax.set_title(name)
        if name in ("grad_phi_norm", "hypergrad_norm_estimate", "y_error"):
            ax.set_yscale("log")
    if smoothness:
        ax = axes[0][-1]
        ax.loglog(smoothness["grad_norm"].ravel(), smoothness["smoothness"].ravel(), ".", alpha=0.6)
        ax.set_xlabel("||grad f(x_t, y_t)||")
        ax.set_ylabel("secant smoothness")
        ax.set_title(f"smoothness (Spearman {smoothness['spearman']:.2f})")
    fig.suptitle(f"{trace.meta['algorithm']} on {trace.meta['problem']} ({trace.meta['runs']} runs)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return names


def _fmt(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def markdown(trace, task, hyper: dict, smoothness: dict | None, figure: str) -> str:
    s, meta = trace.series, trace.meta
    rows = []
    for name in ("upper_loss", "test_accuracy", "select_accuracy", "test_auc", "score_spread", "clean_weight_gap",
                 "grad_phi_norm", "hypergrad_norm_estimate", "phi", "y_error", "oracle_calls"):
        if name in s and bool(np.isfinite(s[name].cpu().numpy()).any()):
            values = s[name].cpu().numpy()
            ends = " / ".join(_fmt(float(v)) for v in values[-1])
            rows.append(f"| {name} | {_fmt(float(np.nanmedian(values[0])))} | {ends} |")
    lines = [f"# {meta['algorithm']} on {task.name}", "",
             f"- runs: {meta['runs']}, steps: {meta['steps']}, seed: {meta['seed']}, wall time: "
             f"{meta['wall_time']:.1f} s, diverged runs: {int(trace.diverged.sum())}",
             f"- task: `{task!r}`; data: {task.data_source}",
             f"- dimensions: dim_x = {task.dim_x}, dim_y = {task.dim_y}, ground truth: {task.has_ground_truth}, "
             f"device: {task.device}, dtype: {str(task.dtype).replace('torch.', '')}",
             f"- assumptions: {task.assumptions}",
             "- hyperparameters: " + ", ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}"
                                                for k, v in hyper.items()),
             *([f"- collapsed runs (all scores equal, the AUC-margin attractor): "
                f"{int(np.nansum(s['collapsed'][-1].cpu().numpy()))} of {meta['runs']}"] if "collapsed" in s else []),
             "", "| quantity | start | end, run by run |", "|---|---|---|", *rows, ""]
    if smoothness:
        lines += [f"Secant smoothness of f along the trajectory vs ||grad f||: Spearman {smoothness['spearman']:.2f}"
                  + (f"; of Phi vs ||grad Phi||: {smoothness['phi_spearman']:.2f}" if "phi_spearman" in smoothness
                     else "") + ".", ""]
    lines += [f"![curves]({figure})", ""]
    return "\n".join(lines)


def write_report(out: Path, trace, task, hyper: dict, smoothness: dict | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    plot_curves(trace, out / "curves.png", smoothness)
    trace.save(out / "trace.pt")
    path = out / "report.md"
    path.write_text(markdown(trace, task, hyper, smoothness, "curves.png"))
    return path
