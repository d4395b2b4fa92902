"""Oracle throughput: closed-form batched oracles against autograd double-backward of the same f and g.

One "round" is the calls of one single-loop bilevel iteration: grad_f, grad_g and the fused hvp_jvp,
each on a fresh sample for each of R runs. The closed-form side goes through the counted Oracle
(minibatch sampling included); the autograd side draws the same minibatches and differentiates the
per-sample average (``minibatch_f`` / ``minibatch_g``; the population f and g for the logcosh family):
first derivatives by one backward pass, the HVP and JVP together by a double backward of <grad_y g, v>.

    python3 benchmarks/oracle_throughput.py [--out FILE]

Single thread (torch.set_num_threads(1)), float64, CPU; median of 5 timings.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from ubo.synthetic import make_problem
from ubo.synthetic import finite_sum as fs
from ubo.synthetic.rng import CounterRNG

RUNS = (1, 100, 1000)
DIMS = (10, 100)
FAMILIES = ("quadratic", "coupled", "curvature")


def closed_form_round(oracle, x, y, v):
    oracle.grad_f(x, y)
    oracle.grad_g(x, y)
    oracle.hvp_jvp(x, y, v)


def autograd_round(problem, rng, x, y, v):
    """The same three calls by autograd; minibatch families use the oracle's own index streams."""
    finite = hasattr(problem, "minibatch_g")
    n_upper = getattr(problem, "n_val", getattr(problem, "n", 0))

    def f(x_, y_, draw):
        if not finite:
            return problem.f(x_, y_)
        return problem.minibatch_f(x_, y_, draw.integers(n_upper, problem.batch_size, fs.SUB_UPPER))

    def g(x_, y_, draw):
        if not finite:
            return problem.g(x_, y_)
        return problem.minibatch_g(x_, y_, draw.integers(problem.n, problem.batch_size, fs.SUB_LOWER))

    xr, yr = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
    torch.autograd.grad(f(xr, yr, rng.next()).sum(), (xr, yr))
    torch.autograd.grad(g(xr, yr, rng.next()).sum(), yr)
    dy = torch.autograd.grad(g(xr, yr, rng.next()).sum(), yr, create_graph=True)[0]
    torch.autograd.grad((dy * v).sum(), (xr, yr))


def seconds_per_round(fn, min_time: float = 0.2) -> float:
    fn()
    fn()
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - start >= min_time / 5 or reps >= 4096:
            break
        reps *= 2
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        timings.append((time.perf_counter() - start) / reps)
    return statistics.median(timings)


def measure(name: str, runs: int, dim: int) -> tuple[float, float]:
    problem = make_problem(name, dim_x=dim, dim_y=dim)
    gen = torch.Generator().manual_seed(0)
    x, y, v = (torch.randn(runs, dim, generator=gen, dtype=torch.float64) * 0.5 for _ in range(3))
    oracle = problem.oracle(runs=runs, seed=0)
    rng = CounterRNG(0, torch.arange(runs))
    closed = seconds_per_round(lambda: closed_form_round(oracle, x, y, v))
    auto = seconds_per_round(lambda: autograd_round(problem, rng, x, y, v))
    return closed, auto


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the markdown table to this file as well")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = ["| family | d = dim_x = dim_y | R | closed form (ms/round) | autograd (ms/round) | speed-up "
             "| closed form (run-rounds/s) |", "|---|---|---|---|---|---|---|"]
    for name in args.families:
        for dim in DIMS:
            for runs in RUNS:
                closed, auto = measure(name, runs, dim)
                lines.append(f"| {name} | {dim} | {runs} | {closed * 1e3:.3f} | {auto * 1e3:.3f} | "
                             f"{auto / closed:.1f}x | {runs / closed:,.0f} |")
                print(lines[-1], flush=True)
    header = (f"torch {torch.__version__}, {platform.processor() or platform.machine()}, 1 thread, float64; "
              "round = grad_f + grad_g + hvp_jvp for all R runs; median of 5 timings.")
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(header + "\n\n" + "\n".join(lines) + "\n")
    print(header)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
