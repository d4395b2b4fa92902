"""Speed of the batched algorithms: seconds per 1000 iterations, batching gain, oracle share, targets.

    python3 benchmarks/algorithms_speed.py [--quick] [--out FILE]

Sections (each printed as a Markdown table):
  1. seconds per 1000 iterations for every method, R in {1, 100, 1000}, d_x = d_y in {10, 100}
     (coupled F3 family, bounded noise sigma = 0.1 on every oracle, record every 100 steps)
  2. batched R = 100 against a Python loop over the 100 runs (same seeds, same numbers)
  3. share of the step time spent inside the problem's oracle realisations (sample_*) at R = 1000,
     and inside the counter-based generator (synthetic.rng.Draw) alone
  4. the issue's targets: a SLIP 1000 runs x 10,000 iterations (d = 10); b SOBA on the finite-sum
     quadratic (n = 1024, minibatch 64) at R = 1000; c the full-batch quadratic plus additive noise
     at d = 100, R = 1000; d one run (R = 1) of SLIP, BO-REP and AdamBO at d = 10, ms per iteration
Timings are wall-clock on one thread (torch.set_num_threads(1)); the machine is shared, so expect noise.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from ubo import algorithms
from ubo.synthetic import make_problem
from ubo.synthetic.problem import BilevelProblem
from ubo.synthetic.quadratic import Quadratic
from ubo.synthetic.rng import Draw

HYPER = {  # stable on the coupled family; speed does not depend on the values
    "slip": dict(eta=0.01, gamma=0.1, nu=0.1), "borep": dict(eta=0.01, gamma=0.1, nu=0.1, epochs=0),
    "adambo": dict(eta=0.01, gamma=0.1, neumann_terms=5), "stocbio": dict(alpha=0.01, gamma=0.1),
    "ttsa": dict(alpha=0.01, gamma=0.1), "soba": dict(alpha=0.01, gamma=0.1, nu=0.1),
    "ma_soba": dict(alpha=0.01, gamma=0.1, nu=0.1), "f2sa": dict(alpha=0.01, gamma=0.1),
    "accbo": dict(eta=0.01, gamma=0.1),
}


def noisy_coupled(dim: int):
    return make_problem("coupled", dim_x=dim, dim_y=dim, noise="bounded", sigma_f=0.1, sigma_g1=0.1, sigma_g2=0.1)


def seconds(algo, problem, runs: int, steps: int, **kw) -> float:
    start = time.perf_counter()
    algorithms.run(algo, problem, runs=runs, steps=steps, record_every=100, progress=False, **kw)
    return time.perf_counter() - start


def per_1000(algo, problem, runs: int, steps: int) -> float:
    seconds(algo, problem, runs, 5)  # warm-up
    return seconds(algo, problem, runs, steps) * 1000 / steps


class OracleClock:
    """Accumulates the time spent inside a problem's sample_* methods (patched on the instance)."""

    NAMES = ("sample_grad_f", "sample_grad_g", "sample_hvp", "sample_jvp", "sample_hvp_jvp")

    def __init__(self, problem):
        self.total = 0.0
        self.depth = 0  # sample_hvp_jvp may call sample_hvp / sample_jvp: count the outermost call only
        for name in self.NAMES:
            setattr(problem, name, self._timed(getattr(problem, name)))

    def _timed(self, fn):
        def wrapper(*args):
            self.depth += 1
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.total += time.perf_counter() - start
        return wrapper


class GeneratorClock(OracleClock):
    """The same clock on the generator's public draws (patched on the Draw class while in use)."""

    NAMES = ("bits", "uniform", "shaped_normal", "gamma")

    def __enter__(self):
        self.total, self.depth = 0.0, 0
        self.saved = {name: getattr(Draw, name) for name in self.NAMES}
        for name, fn in self.saved.items():
            setattr(Draw, name, self._timed(fn))
        return self

    def __init__(self):
        pass

    def __exit__(self, *exc):
        for name, fn in self.saved.items():
            setattr(Draw, name, fn)


def oracle_share(name: str, problem, runs: int, steps: int) -> tuple[float, float, float]:
    """(oracle share, generator share, ms per iteration) of one run of ``steps`` iterations."""
    clock = OracleClock(problem)
    algo = algorithms.make(name, **HYPER[name])
    seconds(algo, problem, runs, 5)
    clock.total = 0.0
    with GeneratorClock() as generator:
        total = seconds(algo, problem, runs, steps)
    return clock.total / total, generator.total / total, total / steps * 1e3


class FullBatchQuadratic(Quadratic):
    """The quadratic family with population (full-batch) derivatives plus the additive noise laws."""

    sample_grad_f = BilevelProblem.sample_grad_f
    sample_grad_g = BilevelProblem.sample_grad_g
    sample_hvp = BilevelProblem.sample_hvp
    sample_jvp = BilevelProblem.sample_jvp
    sample_hvp_jvp = BilevelProblem.sample_hvp_jvp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (rougher figures)")
    parser.add_argument("--sections", default="1234", help="which sections to run, e.g. 34")
    parser.add_argument("--methods", nargs="+", default=None, help="methods of sections 1-3 (default: all)")
    parser.add_argument("--targets", default="abcd", help="which targets of section 4: a SLIP, b SOBA finite sum, "
                        "c full batch, d one run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    scale = 0.25 if args.quick else 1.0
    names = args.methods or sorted(algorithms.list_algorithms())
    print(f"load average at start: {os.getloadavg()[0]:.2f}\n")

    if "1" in args.sections:
        print("## 1. Seconds per 1000 iterations (coupled F3, bounded noise on every oracle)\n")
        print("| method | R=1, d=10 | R=100, d=10 | R=1000, d=10 | R=1, d=100 | R=100, d=100 | R=1000, d=100 |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            algo = algorithms.make(name, **HYPER[name])
            cells = []
            for dim in (10, 100):
                problem = noisy_coupled(dim)
                for runs in (1, 100, 1000):
                    steps = max(20, int(scale * (400 if runs * dim <= 10_000 else 100)))
                    cells.append(f"{per_1000(algo, problem, runs, steps):.2f}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

    if "2" in args.sections:
        print("\n## 2. Batched against a Python loop over runs (R = 100, d = 10, 200 iterations)\n")
        print("| method | batched s | loop s | loop / batched |")
        print("|---|---|---|---|")
        problem = noisy_coupled(10)
        steps, loop_runs = max(50, int(200 * scale)), 10
        for name in names:
            algo = algorithms.make(name, **HYPER[name])
            seconds(algo, problem, 100, 5)
            batched = seconds(algo, problem, 100, steps)
            loop = sum(seconds(algo, problem, 1, steps, run_ids=[r]) for r in range(loop_runs)) * 100 / loop_runs
            print(f"| {name} | {batched:.3f} | {loop:.2f} | {loop / batched:.0f}x |", flush=True)

    if "3" in args.sections:
        print("\n## 3. Share of step time inside the oracles and the generator (R = 1000, 200 iterations)\n")
        print("| method | d=10 oracle share | d=10 generator share | d=10 ms/iter | d=100 oracle share "
              "| d=100 generator share | d=100 ms/iter |")
        print("|---|---|---|---|---|---|---|")
        steps = max(50, int(200 * scale))
        for name in names:
            cells = []
            for dim in (10, 100):
                share, generator, ms = oracle_share(name, noisy_coupled(dim), 1000, steps)
                cells += [f"{100 * share:.0f}%", f"{100 * generator:.0f}%", f"{ms:.2f}"]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

    if "4" in args.sections:
        print("\n## 4. Targets\n")
    if "4" in args.sections and "a" in args.targets:
        problem = noisy_coupled(10)
        slip = algorithms.make("slip", **HYPER["slip"])
        steps = 10_000 if not args.quick else 2_000
        cpu = time.process_time()
        total = seconds(slip, problem, 1000, steps) * 10_000 / steps
        cpu_noisy = (time.process_time() - cpu) * 10_000 / steps
        cpu = time.process_time()
        exact = seconds(slip, make_problem("coupled"), 1000, steps) * 10_000 / steps
        cpu_exact = (time.process_time() - cpu) * 10_000 / steps
        print(f"- SLIP, 1000 runs x 10,000 iterations, d = 10, record every 100: {total:.1f} s wall "
              f"({cpu_noisy:.1f} s CPU) with bounded noise on every oracle, {exact:.1f} s wall ({cpu_exact:.1f} s CPU) "
              f"with exact oracles (target <= 5 s; BO-REP and AdamBO within 2x of SLIP: section 1)")
    soba = algorithms.make("soba", **HYPER["soba"])
    if "4" in args.sections and "b" in args.targets:
        peer = {10: 0.05e-3, 100: 3e-3}
        for dim in (10, 100):
            quad = make_problem("quadratic", dim_x=dim, dim_y=dim, n=1024, batch_size=64)
            steps = max(20, int((400 if dim == 10 else 100) * scale))
            per_iter = per_1000(soba, quad, 1000, steps) / 1000
            ours = 1000 / per_iter
            print(f"- SOBA, finite-sum quadratic n = 1024, minibatch 64, d = {dim}, R = 1000: {per_iter * 1e3:.2f} ms "
                  f"per iteration = {ours:,.0f} run-iterations/s; JAX peer (one run, jit) {1 / peer[dim]:,.0f}/s; "
                  f"ratio {ours * peer[dim]:.1f}x (target >= 10x)")
    if "4" in args.sections and "c" in args.targets:
        full = FullBatchQuadratic(dim_x=100, dim_y=100, n=1024, batch_size=64, noise="gaussian", sigma_f=0.1,
                                  sigma_g1=0.1, sigma_g2=0.1)
        exact = FullBatchQuadratic(dim_x=100, dim_y=100, n=1024, batch_size=64)
        steps = max(20, int(200 * scale))
        per_iter = per_1000(soba, full, 1000, steps)
        per_exact = per_1000(soba, exact, 1000, steps)
        print(f"- SOBA, full-batch quadratic + additive Gaussian noise, d = 100, R = 1000: {per_iter:.2f} ms per "
              f"iteration for all runs ({per_exact:.2f} ms without the noise; hand-written vmapped JAX loop: 4.3 ms)")
    if "4" in args.sections and "d" in args.targets:
        problem = noisy_coupled(10)
        steps = 2000 if not args.quick else 500
        for name in ("slip", "borep", "adambo"):
            cpu = time.process_time()
            ms = per_1000(algorithms.make(name, **HYPER[name]), problem, 1, steps)
            cpu_ms = (time.process_time() - cpu) / (steps + 5) * 1e3
            print(f"- {name}, one run (R = 1), d = 10, bounded noise: {ms:.3f} ms per iteration wall "
                  f"({cpu_ms:.3f} ms CPU; target <= 0.2 ms)")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
