"""Deep AUC on SMS spam: how many runs collapse, per algorithm, start and task seed.

    python benchmarks/deep_auc_collapse.py [--algorithms slip,borep] [--runs 8] [--steps 400]
                                           [--task-seeds 0,1,2] [--set score_init=1.0 --set centre_scale=1.0]

Each (task seed, algorithm) is one batched run of --runs seeds at the suggested hyperparameters (eta = 0.3).
Prints the mean test AUC every steps/4, every run's final test AUC and the number of runs the task flags as
collapsed (scores flat and saturated). The figures in benchmarks/RESULTS.md (issue 12, section 6) come from
the defaults and from the two --set ablations.
"""

from __future__ import annotations

import argparse
import ast
import time

import torch

from ubo import algorithms, tasks
from ubo.tasks.tuning import suggested_hyper

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithms", default="slip,borep")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--task-seeds", default="0,1,2")
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="task parameter")
    args = parser.parse_args()
    torch.set_num_threads(1)
    params = {k: ast.literal_eval(v) for k, v in (item.split("=", 1) for item in args.set)}
    for task_seed in (int(s) for s in args.task_seeds.split(",")):
        task = tasks.make_task("deep_auc", **{**params, "seed": task_seed})
        for name in args.algorithms.split(","):
            start = time.time()
            trace = algorithms.run(algorithms.make(name, **suggested_hyper(task, name, args.eta)), task,
                                   runs=args.runs, steps=args.steps, seed=0, record_every=max(1, args.steps // 4),
                                   progress=False)
            auc = trace.series["test_auc"]
            print(f"{params} task seed {task_seed} {name:8s} {time.time() - start:5.0f} s  mean AUC "
                  f"{[round(float(v), 3) for v in auc.mean(1)]}  final {[round(float(v), 3) for v in auc[-1]]}  "
                  f"collapsed {int(trace.series['collapsed'][-1].sum())}/{args.runs}  "
                  f"diverged {int(trace.diverged.sum())}", flush=True)
