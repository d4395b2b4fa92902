"""Local perturbation smoothness at SLIP's iterates on every task, blocks apart, with fitted (L0, L1).

    python benchmarks/tasks_iterate_smoothness.py                      # measure every task, then report
    python benchmarks/tasks_iterate_smoothness.py --tasks deep_auc     # measure some tasks (points_*.csv)
    python benchmarks/tasks_iterate_smoothness.py --report             # table.md + smoothness.png from the CSVs

Each task is built at its small preset in float64 (plus the RNN-lower variants of hyper-cleaning and HO,
lower='rnn', and the earlier pre-LN transformer, layout='pre'), SLIP runs with tasks.tuning.suggested_hyper
(eta = 0.3), and at every ``--every``-th iterate tasks.iterate_smoothness measures the local smoothness of the blocks phi (x -> grad Phi), f_x, f_y and
g_y (y -> grad_y g, the lower level) against the block's gradient norm; (L0, L1) is fitted per block over
all iterates and runs (non-negative least squares, 95 % bootstrap intervals). Output in
benchmarks/tasks_iterate_smoothness/: points_<task>.csv, fits.csv, table.md and smoothness.png (one row per
task, one column per block; colour = step; red line = the fit; shaded = the lines through the interval ends,
L0_low + L1_low g to L0_high + L1_high g, a loose envelope rather than a pointwise band).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ubo import algorithms, tasks
from ubo.tasks.iterate_smoothness import BLOCKS, fit_blocks, iterate_smoothness
from ubo.tasks.tuning import suggested_hyper

OUT = Path(__file__).parent / "tasks_iterate_smoothness"
TASKS = {label: (label, {}) for label in ("hyper_representation", "hyperparam_opt", "hyper_cleaning", "deep_auc",
                                           "transformer_fewshot")}
TASKS.update({"transformer_fewshot_pre": ("transformer_fewshot", {"layout": "pre"}),
              "hyper_cleaning_rnn": ("hyper_cleaning", {"lower": "rnn"}),
              "hyperparam_opt_rnn": ("hyperparam_opt", {"lower": "rnn"})})


def measure(label: str, steps: int, every: int, runs: int, out: Path) -> None:
    name, params = TASKS[label]
    start = time.time()
    task = tasks.make_task(name, dtype="float64", **params)
    algo = algorithms.make("slip", **suggested_hyper(task, "slip"))
    frame = iterate_smoothness(task, algo, steps=steps, every=every, runs=runs)
    frame.insert(0, "task", label)
    frame.to_csv(out / f"points_{label}.csv", index=False)
    print(f"{label}: {len(frame)} points in {time.time() - start:.0f} s ({repr(task)}, SLIP {steps} steps, "
          f"every {every}, {runs} runs)", flush=True)


def report(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = [pd.read_csv(p) for p in sorted(out.glob("points_*.csv"))]
    if not frames:
        raise SystemExit(f"no points_*.csv in {out}: measure first")
    points = pd.concat(frames)
    labels = [t for t in TASKS if t in set(points["task"])]
    fits = pd.concat([fit_blocks(points[points["task"] == t]).assign(task=t) for t in labels])
    cols = ["task", "block", "points", "grad_min", "grad_max", "smooth_min", "smooth_max", "spearman",
            "L0", "L0_low", "L0_high", "L1", "L1_low", "L1_high"]
    fits = fits[cols]
    fits.to_csv(out / "fits.csv", index=False)
    lines = ["| task | block | points | \\|\\|grad\\|\\| range | L_hat range | Spearman | L0 [95 %] | L1 [95 %] |",
             "|---|---|---|---|---|---|---|---|"]
    for r in fits.itertuples():
        lines.append(f"| {r.task} | {r.block} | {r.points} | {r.grad_min:.3g}-{r.grad_max:.3g} | "
                     f"{r.smooth_min:.3g}-{r.smooth_max:.3g} | {r.spearman:.2f} | {r.L0:.3g} [{r.L0_low:.3g}, "
                     f"{r.L0_high:.3g}] | {r.L1:.3g} [{r.L1_low:.3g}, {r.L1_high:.3g}] |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    fig, axes = plt.subplots(len(labels), len(BLOCKS), figsize=(3.2 * len(BLOCKS), 2.6 * len(labels)),
                             squeeze=False)
    for i, t in enumerate(labels):
        for j, block in enumerate(BLOCKS):
            ax = axes[i, j]
            part = points[(points["task"] == t) & (points["block"] == block)]
            if part.empty:
                ax.set_axis_off()
                ax.set_title(f"{t}\n{block}: not measured", fontsize=8)
                continue
            sc = ax.scatter(part["grad_norm"], part["smoothness"], c=part["step"], s=14, cmap="viridis")
            fit = fits[(fits["task"] == t) & (fits["block"] == block)].iloc[0]
            g = np.linspace(0, part["grad_norm"].max() * 1.05, 50)
            ax.plot(g, fit["L0"] + fit["L1"] * g, "r-", lw=1)
            ax.fill_between(g, fit["L0_low"] + fit["L1_low"] * g, fit["L0_high"] + fit["L1_high"] * g,
                            color="r", alpha=0.15, lw=0)
            ax.set_title(f"{t}\n{block}: L0={fit['L0']:.2g}, L1={fit['L1']:.2g}, rho={fit['spearman']:.2f}",
                         fontsize=8)
            ax.set_xlabel("||grad|| of the block", fontsize=7)
            ax.set_ylabel("local L_hat", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.ticklabel_format(useOffset=False)
        fig.colorbar(sc, ax=axes[i, -1], label="step")
    fig.tight_layout()
    fig.savefig(out / "smoothness.png", dpi=90)
    print(f"wrote {out / 'table.md'}, {out / 'fits.csv'}, {out / 'smoothness.png'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="*", default=None, choices=list(TASKS))
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--every", type=int, default=20)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--report", action="store_true", help="only write the table and figure from the CSVs")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(exist_ok=True)
    if not args.report:
        for label in args.tasks or list(TASKS):
            measure(label, args.steps, args.every, args.runs, args.out)
    if args.report or args.tasks is None:
        report(args.out)


if __name__ == "__main__":
    main()
