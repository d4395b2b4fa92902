"""Files of a comparison (tasks.compare): grid.csv, table.md, comparison.png."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ubo.tasks.compare import verdict


def _cell(value, digits: int = 3) -> str:
    return "" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _ci(r, low: str, high: str) -> str:
    return f"[{_cell(r.get(low))}, {_cell(r.get(high))}]" if np.isfinite(r.get(low, math.nan)) else ""


def table(best: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    """One row per method (at its chosen eta) and per baseline; adaptation columns when the task has them."""
    adapted = any("adapted" in f and f["adapted"].notna().any() for f in (best, base))
    head = "| method | chosen eta / lr | select acc. | test acc. (mean) | 95 % interval | per seed |"
    rule = "|---|---|---|---|---|---|"
    if adapted:
        head += " adapted test acc. (mean) | 95 % interval | per seed |"
        rule += "---|---|---|"
    lines = [head + " diverged |", rule + "---|"]
    for frame in (best, base):
        for _, r in frame.iterrows():
            eta = r.get("eta", math.nan)
            line = (f"| {r['method']} | {'' if not np.isfinite(eta) else f'{eta:g}'} | "
                    f"{_cell(r.get('select', math.nan))} | {_cell(r['test'])} | {_ci(r, 'low', 'high')} | "
                    f"{r.get('per_seed', '')} |")
            if adapted:
                per = r.get("adapted_per_seed", "")
                line += (f" {_cell(r.get('adapted', math.nan))} | {_ci(r, 'adapted_low', 'adapted_high')} | "
                         f"{'' if pd.isna(per) else per} |")
            lines.append(line + f" {'' if pd.isna(r.get('diverged', math.nan)) else int(r['diverged'])} |")
    return lines


def grid_table(grid: pd.DataFrame) -> list[str]:
    """Mean select / test (and adapted) accuracy of every (method, eta), seeds pooled."""
    adapted = "adapted" in grid and grid["adapted"].notna().any()
    cols = dict(select=("select", "mean"), test=("test", "mean"), diverged=("diverged", "sum"),
                seconds=("seconds", "sum"))
    if adapted:
        cols["adapted"] = ("adapted", "mean")
    agg = grid.groupby(["method", "eta"], sort=False).agg(**cols).reset_index()
    extra = (" mean adapted test acc. |", "---|") if adapted else ("", "")
    lines = [f"| method | eta | mean select acc. | mean test acc. |{extra[0]} diverged runs | wall s (seeds batched) |",
             f"|---|---|---|---|{extra[1]}---|---|"]
    lines += [f"| {r.method} | {r.eta:g} | {r.select:.3f} | {r.test:.3f} |"
              + (f" {r.adapted:.3f} |" if adapted else "") + f" {int(r.diverged)} | {r.seconds:.0f} |"
              for r in agg.itertuples()]
    return lines


def figure(path: Path, task_name: str, best: pd.DataFrame, base: pd.DataFrame, grid: pd.DataFrame, traces: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, r in enumerate(best.itertuples()):
        seeds = grid[(grid["method"] == r.method) & (grid["eta"] == r.eta)]["test"]
        left.scatter(np.full(len(seeds), i), seeds, s=14, color="grey", zorder=3)
        err = [[r.test - r.low], [r.high - r.test]] if np.isfinite(r.low) else None
        left.errorbar(i, r.test, yerr=err, fmt="o", capsize=4, zorder=4)
    left.set_xticks(range(len(best)), [f"{m}\neta={e:g}" for m, e in zip(best["method"], best["eta"])], fontsize=8)
    for j, r in enumerate(base.itertuples()):
        left.axhline(r.test, ls=("--", ":", "-.", (0, (5, 1)))[j % 4], color=f"C{j + 5}", label=f"{r.method}")
    left.set_ylabel("test accuracy (last step)")
    left.set_title(f"{task_name}: each method at its best eta on 'select' (95 % t-interval)")
    left.legend(fontsize=7, loc="lower right")
    for r in best.itertuples():
        trace = traces[(r.method, r.eta)]
        steps = trace.step.cpu().numpy()
        acc = trace.series["test_accuracy"].cpu().numpy()
        line, = right.plot(steps, np.nanmean(acc, 1), label=f"{r.method} (eta={r.eta:g})")
        right.fill_between(steps, np.nanmin(acc, 1), np.nanmax(acc, 1), color=line.get_color(), alpha=0.15)
    right.set_xlabel("outer step")
    right.set_ylabel("test accuracy (mean; band min..max over seeds)")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_comparison(out: Path, task, grid, best, base, traces, command: str, config: dict) -> Path:
    """Write grid.csv, comparison.png and table.md (with the verdict) into ``out``; returns table.md."""
    out.mkdir(parents=True, exist_ok=True)
    grid.to_csv(out / "grid.csv", index=False)
    figure(out / "comparison.png", task.name, best, base, grid, traces)
    lines = [f"# Comparison on {task.name}", "", f"Command: `{command}`", "",
             f"- task: {task!r}", f"- data: {task.data_source}",
             f"- seeds: {config['seeds']} (runs 0..{config['seeds'] - 1} of seed {config['seed']}), "
             f"steps: {config['steps']}, eta grid: {list(config['etas'])}, joint-Adam lr grid: {list(config['lrs'])}",
             "- selection: each method's eta maximises the mean accuracy on the 'select' pool at the last step; "
             "'test' is used for nothing else", "",
             f"**Does a method of the papers (SLIP, BO-REP, AdamBO) beat the baselines?** {verdict(best, base)}.", "",
             *([f"After test-time adaptation (a head fitted on {task.adapt_shots} held-out examples per class at "
                f"the learnt encoder, mean of {task.adapt_draws} draws; eta still chosen on zero-shot 'select'): "
                f"{verdict(best, base, 'adapted')}.", ""] if getattr(task, "adapt_shots", None) else []),
             "## Each method at its chosen step size", "", *table(best, base), "",
             "## The whole grid (means over seeds)", "", *grid_table(grid), "", "![comparison](comparison.png)", ""]
    path = out / "table.md"
    path.write_text("\n".join(lines))
    return path
