"""Smoothness probes on the tasks: the recurrent-weight scan and secant smoothness along trajectories.

    python benchmarks/tasks_smoothness.py --steps 30 --algorithm slip [--data real]
    python benchmarks/tasks_smoothness.py --task-scan      # the W_hh scan on the tasks' own Phi

The task scan (tasks.smoothness.task_radius_scan) runs on hyper_representation (grammar, 300 sentences
per domain) and deep_auc (grammar), float64: local smoothness of Phi (x block) and of y -> grad_y f
(y block) against the gradient norms, with fitted (L0, L1) and 95 % bootstrap intervals.

Prints the scan table and, per task, the Spearman rank correlation between the secant smoothness of
u = (x, y) -> f(u) (whole upper pool) and ||grad f||, and between Phi's secant smoothness and
||grad Phi|| (ground truth), plus the smoothness ratio of the top and bottom gradient-norm thirds.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ubo import algorithms
from ubo import tasks
from ubo.tasks.smoothness import recurrent_scan, trajectory_smoothness
from ubo.tasks.tuning import suggested_hyper


def thirds_ratio(grad, smooth) -> float:
    g, s = np.ravel(grad), np.ravel(smooth)
    keep = np.isfinite(g) & np.isfinite(s)
    g, s = g[keep], s[keep]
    order = np.argsort(g)
    k = max(1, len(g) // 3)
    return float(s[order[-k:]].mean() / s[order[:k]].mean())


def task_scans() -> None:
    from ubo.tasks.smoothness import task_radius_scan

    for name, params in (("hyper_representation", dict(per_domain=300)),
                         ("deep_auc", dict(data="grammar", score_init=1.0, centre_scale=1.0))):  # the scanned start
        out = task_radius_scan(tasks.make_task(name, dtype="float64", **params))
        print(f"\n{name}: | s | " + " | ".join(f"{v:g}" for v in out["scale"]) + " |")
        for block, label in (("phi", "Phi (x block)"), ("fy", "grad_y f (y block)")):
            fit = out[f"{block}_fit"]
            print(f"| {label}: ||grad|| | " + " | ".join(f"{v:.3g}" for v in out[f"{block}_grad_norm"]) + " |")
            print(f"| {label}: L_hat | " + " | ".join(f"{v:.3g}" for v in out[f"{block}_smoothness"]) + " |")
            print(f"{label}: Spearman {out[f'{block}_spearman']:.2f}; L0 = {fit['L0']:.3g} "
                  f"[{fit['L0_interval'][0]:.3g}, {fit['L0_interval'][1]:.3g}], L1 = {fit['L1']:.3g} "
                  f"[{fit['L1_interval'][0]:.3g}, {fit['L1_interval'][1]:.3g}]", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--algorithm", default="slip")
    ap.add_argument("--eta", type=float, default=0.3)
    ap.add_argument("--data", default=None, help="override the data of the sentiment tasks ('real' or 'grammar')")
    ap.add_argument("--task-scan", action="store_true", help="only the W_hh scan on the tasks' own Phi")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.task_scan:
        task_scans()
        return
    scan = recurrent_scan()
    print("| s | " + " | ".join(f"{v:g}" for v in scan["scale"]) + " |")
    print("| ||grad f|| | " + " | ".join(f"{v:.3g}" for v in scan["grad_norm"]) + " |")
    print("| L_hat | " + " | ".join(f"{v:.3g}" for v in scan["smoothness"]) + " |")
    print(f"log-log Pearson {scan['log_pearson']:.3f}, Spearman {scan['spearman']:.3f}")
    for name in tasks.list_tasks():
        params = {"data": args.data} if args.data and name != "transformer_fewshot" else {}
        task = tasks.make_task(name, **params)
        algo = algorithms.make(args.algorithm, **suggested_hyper(task, args.algorithm, args.eta))
        out = trajectory_smoothness(task, algo, steps=args.steps, runs=1)
        print(f"| {name} | {args.algorithm} | {args.steps} | {out['spearman']:.2f} | "
              f"{thirds_ratio(out['grad_norm'], out['smoothness']):.2f} | "
              f"{out.get('phi_spearman', float('nan')):.2f} | "
              f"{thirds_ratio(out['phi_grad_norm'], out['phi_smoothness']):.2f} | "
              f"{np.nanmin(out['grad_norm']):.3g}-{np.nanmax(out['grad_norm']):.3g} | "
              f"{np.nanmin(out['smoothness']):.3g}-{np.nanmax(out['smoothness']):.3g} |", flush=True)


if __name__ == "__main__":
    main()
