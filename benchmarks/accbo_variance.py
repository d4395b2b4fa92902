"""AccBO's STORM momentum against plain normalized SGD: the error of the upper-level direction.

At each step t of one trajectory per run, the error ||m_t - hbar(x_t, yhat_t)|| of the momentum m_t
against the estimator's mean hbar (the same Neumann estimator on the noise-free twin of the problem,
so the error is the estimator's noise and its lag, not the Neumann or lower-level bias). Compared:
AccBO with STORM (``momentum="storm"``, the same samples at the previous point), AccBO with the released
recursion (``momentum="released"``: m_t = h_t, i.e. normalized SGD) and beta = 0 (normalized SGD).

    .venv/bin/python benchmarks/accbo_variance.py [--runs 256] [--steps 400]
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ubo import algorithms
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.synthetic import make_problem


def direction_error(algo, problem, exact, runs: int, steps: int, every: int, seed: int = 0) -> list[float]:
    """Mean over runs of ||m_t - hbar(x_t, yhat_t)|| every ``every`` steps."""
    oracle = problem.oracle(runs=runs, seed=seed)
    mean_oracle = exact.oracle(runs=runs)
    state = algo.init(oracle, problem.batch(problem.x0, runs), problem.batch(problem.y0, runs))
    out = []
    for t in tqdm(range(steps), desc=f"{algo.momentum} beta={algo.beta}", leave=False):
        x = state.x
        state = algo.step(oracle, state)
        if (t + 1) % every == 0:
            hbar = neumann_hypergradient(mean_oracle, x, state.y, algo.neumann_scale, algo.neumann_terms)
            out.append(float((state.m - hbar).norm(dim=1).mean()))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    common = dict(dim_x=5, dim_y=3)
    problem = make_problem("coupled", noise="bounded", sigma_f=0.5, sigma_g1=0.01, sigma_g2=0.3, **common)
    exact = make_problem("coupled", noise="none", **common)
    every = args.steps // 4
    hyper = dict(eta=0.005, gamma=0.3, neumann_scale=5.0, neumann_terms=10, warm_start=50)
    print(f"coupled d_x=5 d_y=3, sigma_f=0.5 sigma_g1=0.01 sigma_g2=0.3, {hyper}; runs={args.runs}")
    print("| method | " + " | ".join(f"t = {every * (k + 1)}" for k in range(4)) + " |")
    print("|---|" + "---|" * 4)
    for label, extra in (("normalized SGD (beta = 0)", dict(beta=0.0)),
                         ("AccBO released recursion, beta = 0.9", dict(beta=0.9, momentum="released")),
                         ("AccBO STORM, beta = 0.9", dict(beta=0.9)),
                         ("AccBO STORM, beta = 0.99", dict(beta=0.99))):
        err = direction_error(algorithms.AccBO(**hyper, **extra), problem, exact, args.runs, args.steps, every)
        print(f"| {label} | " + " | ".join(f"{e:.3f}" for e in err) + " |")


if __name__ == "__main__":
    main()
