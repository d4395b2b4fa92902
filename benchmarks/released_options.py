"""Effect of the released-code options of SLIP and BO-REP against the paper-faithful defaults.

Median over runs of ||grad Phi(x_T)|| and of max_t ||y_t - y*(x_t)|| on one noisy problem, same seeds.

    .venv/bin/python benchmarks/released_options.py [--runs 64] [--steps 500]
"""

from __future__ import annotations

import argparse
import math

import torch

from ubo import algorithms
from ubo.synthetic import make_problem


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    problem = make_problem("coupled", noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.1)
    slip = dict(eta=0.01, beta=0.9, gamma=0.1, nu=0.1, warm_start=50)
    borep = dict(eta=0.01, beta=0.9, gamma=0.1, nu=0.1, period=2, lower_steps=3)
    cases = [("slip", "paper defaults", slip), ("slip", "z_radius=inf", {**slip, "z_radius": math.inf}),
             ("slip", "jacobian='next'", {**slip, "jacobian": "next"}),
             ("slip", "lower_accumulate=2", {**slip, "lower_accumulate": 2}),
             ("slip", "task_batch=4", {**slip, "task_batch": 4}),
             ("borep", "paper defaults", borep), ("borep", "lower_accumulate=True", {**borep, "lower_accumulate": True}),
             ("borep", "jacobian_new_z=True", {**borep, "jacobian_new_z": True}),
             ("borep", "task_batch=4", {**borep, "task_batch": 4})]
    print(f"coupled, bounded noise (0.5, 0.5, 0.1), runs={args.runs}, steps={args.steps}, seed 0")
    print("| method | option | median final grad Phi norm | median max_t y error |")
    print("|---|---|---|---|")
    for name, label, hyper in cases:
        trace = algorithms.run(algorithms.make(name, **hyper), problem, runs=args.runs, steps=args.steps, seed=0,
                               every_step_summary=True, record_every=args.steps)
        g = float(trace.series["grad_phi_norm"][-1].median())
        y = float(trace.summary["max_y_error"].median())
        print(f"| {name} | {label} | {g:.4f} | {y:.4f} |")


if __name__ == "__main__":
    main()
