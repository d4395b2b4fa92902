"""Every speed target of issue 15, measured in one script and written as one markdown table.

    python3 benchmarks/perf_targets.py [--reps 3] [--targets slip one_run jax peer shares] [--slip-steps 10000]
                                       [--cores N] [--threads K] [--out benchmarks/perf_targets.md]
                                       [--peer PATH/benchmark_bilevel --peer-python PATH/bin/python]

Targets (coupled F3 family, d = dim_x = dim_y, bounded noise sigma = 0.1 on every oracle call, record every 100,
one torch thread, and ubo's fused numba kernels on ``--threads`` threads (default 1; synthetic.fused_threads
splits a call's runs over them); each figure the median of ``--reps`` repetitions, every repetition listed):
  slip     SLIP, 1000 runs x 10,000 iterations, d = 10: <= 5 s (milestone 10 s); BO-REP and AdamBO within 2x of
           SLIP (the same run each); with more than one core, the SLIP run again with ``workers`` = the cores
           (algorithms.shards). ``--slip-steps`` < 10,000 times fewer steps and scales the seconds up (marked)
  one_run  one run (R = 1), d = 10, SLIP: <= 0.2 ms per iteration
  jax      ubo / JAX run-iterations per second at R = 1000, d = 10 and 100, SOBA and SLIP: >= 1.5x. The JAX side is
           benchmarks/jax_reference.py (jit + vmap, the same oracle semantics; extra ``bench``); each repetition
           times ubo then JAX on the same steps, and the ratio is the median of the per-repetition ratios
  shares   share of the step time inside the oracles (>= 70%) and inside the generator (<= 20%), R = 1000
``--cores N`` pins the whole process (ubo and JAX alike) to the first N CPUs (os.sched_setaffinity) before JAX
starts: with N = 1 both sides get the same single core, whatever threads XLA spawns (its single-thread flags do
not hold in jax 0.10.2, so unpinned it takes the second core of a 2-core machine while ubo runs one thread).
  peer     ubo / benchmark_bilevel's SOBA (the peer's own code, one seed per jit call, float32 as benchopt runs it
           and float64) at d = 10: >= 10x, through benchmarks/peer_soba.py, both pinned to the first K allowed CPUs
           (K = ``--threads``; ubo's fused kernels on K threads, the peer's XLA single-threaded only when K = 1).
           Needs ``--peer PATH`` (a checkout of benchopt/benchmark_bilevel) and ``--peer-python PATH`` (a python with
           benchopt and jax; default this one if it imports benchopt); without them the row says "not measured".
The load average (1 min) is recorded before and after each target: on a shared machine absolute times
are inflated, while the alternated ratios (jax) are steadier. Each target alone takes < 3 min on a quiet
2-core machine with the defaults (``--slip-steps 2000`` for a quicker, scaled SLIP figure).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from ubo import algorithms
from ubo.synthetic import fused_threads, make_problem

HERE = Path(__file__).resolve().parent
HYPER = {"slip": dict(eta=0.01, gamma=0.1, nu=0.1), "borep": dict(eta=0.01, gamma=0.1, nu=0.1, epochs=0),
         "adambo": dict(eta=0.01, gamma=0.1, neumann_terms=5), "soba": dict(alpha=0.01, gamma=0.1, nu=0.1)}
TARGETS = ("slip", "one_run", "jax", "peer", "shares")


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def noisy_coupled(dim: int):
    return make_problem("coupled", dim_x=dim, dim_y=dim, noise="bounded", sigma_f=0.1, sigma_g1=0.1, sigma_g2=0.1)


def timed_run(name: str, problem, runs: int, steps: int, workers: int = 1) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one ``algorithms.run``."""
    algo = algorithms.make(name, **HYPER[name])
    wall, cpu = time.perf_counter(), time.process_time()
    algorithms.run(algo, problem, runs=runs, steps=steps, record_every=100, progress=False, workers=workers)
    return time.perf_counter() - wall, time.process_time() - cpu


def listing(values, fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


class Table:
    def __init__(self):
        self.rows = []

    def add(self, target: str, measured: str, verdict: str, loads: tuple[float, float]) -> None:
        self.rows.append(f"| {target} | {measured} | {verdict} | {loads[0]:.1f} / {loads[1]:.1f} |")
        print(self.rows[-1], flush=True)

    def markdown(self) -> str:
        head = "| target | measured (median; every repetition) | verdict | load before / after |\n|---|---|---|---|\n"
        return head + "\n".join(self.rows) + "\n"


def target_slip(table: Table, reps: int, steps: int) -> None:
    problem, scale = noisy_coupled(10), 10_000 / steps
    note = "" if steps == 10_000 else f" (scaled from {steps:,} steps)"
    timed_run("slip", problem, 1000, 10)  # warm-up (numba, allocations)
    before = os.getloadavg()[0]
    walls, cpus = {}, {}
    for name in ("slip", "borep", "adambo"):
        times = [timed_run(name, problem, 1000, steps) for _ in range(reps)]
        walls[name], cpus[name] = [w * scale for w, _ in times], [c * scale for _, c in times]
    after = os.getloadavg()[0]
    slip = statistics.median(walls["slip"])
    verdict = "met" if slip <= 5 else ("milestone met (<= 10 s)" if slip <= 10 else "missed")
    table.add("SLIP, 1000 runs x 10,000 it, d = 10, bounded noise, record every 100: <= 5 s (milestone 10 s)",
              f"{slip:.1f} s wall{note}; {listing(walls['slip'], '{:.1f}')}; CPU {statistics.median(cpus['slip']):.1f} s "
              f"({listing(cpus['slip'], '{:.1f}')})", verdict, (before, after))
    for name in ("borep", "adambo"):
        ratio = statistics.median(walls[name]) / slip
        table.add(f"{name} within 2x of SLIP (same run)", f"{ratio:.2f}x ({statistics.median(walls[name]):.1f} s; "
                  f"{listing(walls[name], '{:.1f}')})", "met" if ratio <= 2 else "missed", (before, after))
    cores = len(os.sched_getaffinity(0))
    if cores > 1:  # the same run with the runs shared out over every core this process may use
        before = os.getloadavg()[0]
        shared = sorted(timed_run("slip", problem, 1000, steps, workers=cores)[0] * scale for _ in range(reps))
        after = os.getloadavg()[0]
        wall = statistics.median(shared)
        table.add(f"the same SLIP run, runs shared out over the {cores} cores (`workers={cores}`)",
                  f"{wall:.1f} s wall{note}; {listing(shared, '{:.1f}')}; {slip / wall:.2f}x the one-process run",
                  "met" if wall <= 5 else ("milestone met (<= 10 s)" if wall <= 10 else "missed"), (before, after))


def target_one_run(table: Table, reps: int, steps: int = 2000) -> None:
    problem = noisy_coupled(10)
    timed_run("slip", problem, 1, 20)
    before = os.getloadavg()[0]
    times = [timed_run("slip", problem, 1, steps) for _ in range(reps)]
    after = os.getloadavg()[0]
    wall = [w / steps * 1e3 for w, _ in times]
    cpu = [c / steps * 1e3 for _, c in times]
    ms = statistics.median(wall)
    table.add("one run (R = 1), d = 10, SLIP: <= 0.2 ms per iteration",
              f"{ms:.3f} ms wall ({listing(wall, '{:.3f}')}); CPU {statistics.median(cpu):.3f} ms", 
              "met" if ms <= 0.2 else "missed", (before, after))


def target_jax(table: Table, reps: int) -> None:
    try:
        ref = load("jax_reference")
    except ImportError as err:
        table.add("ubo / JAX (jit + vmap) >= 1.5x at R = 1000", f"not measured: {err}", "not measured", (0, 0))
        return
    for dim, steps in ((10, 300), (100, 40)):
        for method in ("soba", "slip"):
            problem, keys, block, record, x0 = ref.setup(dim, 1000, method)
            algo = algorithms.make(method, **ref.HYPER[method])
            ref.jax_run(block, record, keys, x0, steps)  # compile (the block length is static: the same steps)
            algorithms.run(algo, problem, runs=1000, steps=10, record_every=100, progress=False)
            before = os.getloadavg()[0]
            ratios, cpu_ratios = [], []
            for _ in range(reps):
                wall, cpu = time.perf_counter(), time.process_time()
                algorithms.run(algo, problem, runs=1000, steps=steps, record_every=100, progress=False)
                ours, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
                wall, cpu = time.perf_counter(), time.process_time()
                ref.jax_run(block, record, keys, x0, steps)
                theirs, theirs_cpu = time.perf_counter() - wall, time.process_time() - cpu
                ratios.append(theirs / ours)
                cpu_ratios.append(theirs_cpu / ours_cpu)
            after = os.getloadavg()[0]
            ratio = statistics.median(ratios)
            table.add(f"{method}, R = 1000, d = {dim}: ubo / JAX run-it/s >= 1.5x",
                      f"{ratio:.2f}x wall ({listing(ratios)}); CPU time {statistics.median(cpu_ratios):.2f}x "
                      f"({listing(cpu_ratios)}); {steps} steps per repetition", "met" if ratio >= 1.5 else "missed",
                      (before, after))


def target_peer(table: Table, reps: int, peer: Path | None, peer_python: str | None, threads: int) -> None:
    """>= 10x benchmark_bilevel's SOBA at d = 10: benchmarks/peer_soba.py on the user's checkout of the peer."""
    target = ">= 10x benchmark_bilevel's SOBA at d = 10"
    speed = load("peer_soba")
    python = speed.peer_python(peer_python)
    if peer is None or python is None:
        load_now = os.getloadavg()[0]
        table.add(target, "not measured: give --peer PATH (a checkout of benchopt/benchmark_bilevel) and "
                  "--peer-python PATH (a venv's python with benchopt and jax)", "not measured", (load_now, load_now))
        return
    cpus = tuple(sorted(os.sched_getaffinity(0))[:threads])
    for row in speed.measure(peer, python, reps=reps, cpus=cpus, samples_steps=0, log=lambda s: None):
        table.add(f"{target} (peer {row['peer']}, one seed per jit call; ubo `quadratic`, R = {row['runs']}; "
                  f"both on CPUs {','.join(map(str, cpus))})",
                  f"{row['ratio']:.1f}x ({listing(row['ratios'], '{:.1f}')}); peer {row['peer_rate']:,.0f} it/s "
                  f"({listing(row['peer_rates'], '{:,.0f}')}), ubo {row['ubo_rate']:,.0f} run-it/s "
                  f"({listing(row['ubo_rates'], '{:,.0f}')})", "met" if row["ratio"] >= 10 else "missed", row["loads"])


def target_shares(table: Table, reps: int, steps: int = 200) -> None:
    speed = load("algorithms_speed")
    for method in ("slip", "borep", "adambo", "soba"):
        for dim in (10, 100):
            before = os.getloadavg()[0]
            shares = [speed.oracle_share(method, noisy_coupled(dim), 1000, steps if dim == 10 else steps // 4)
                      for _ in range(reps)]
            after = os.getloadavg()[0]
            oracle = statistics.median(s[0] for s in shares)
            generator = statistics.median(s[1] for s in shares)
            table.add(f"{method}, R = 1000, d = {dim}: oracle share >= 70%, generator share <= 20%",
                      f"oracle {100 * oracle:.0f}% ({listing([100 * s[0] for s in shares], '{:.0f}')}), generator "
                      f"{100 * generator:.0f}% ({listing([100 * s[1] for s in shares], '{:.0f}')})",
                      ("oracle met" if oracle >= 0.7 else "oracle missed") + ", "
                      + ("generator met" if generator <= 0.2 else "generator missed"), (before, after))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    parser.add_argument("--slip-steps", type=int, default=10_000)
    parser.add_argument("--cores", type=int, default=None, help="pin the process to the first N CPUs (default: all)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of ubo's fused kernels (default 1; at most the CPUs allowed); torch uses one")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    parser.add_argument("--peer", type=Path, default=None,
                        help="a checkout of benchopt/benchmark_bilevel (target peer)")
    parser.add_argument("--peer-python", default=None, help="python of a venv with benchopt and jax (target peer)")
    args = parser.parse_args()
    if args.reps < 1 or not 100 <= args.slip_steps <= 10_000:
        sys.exit("--reps must be >= 1 and --slip-steps in [100, 10000]")
    available = sorted(os.sched_getaffinity(0))
    if args.cores is not None:
        if not 1 <= args.cores <= len(available):
            sys.exit(f"--cores must be in [1, {len(available)}] (the CPUs this process may use), got {args.cores}")
        os.sched_setaffinity(0, available[:args.cores])
    if not 1 <= args.threads <= len(os.sched_getaffinity(0)):
        sys.exit(f"--threads must be in [1, {len(os.sched_getaffinity(0))}] (the CPUs allowed), got {args.threads}")
    torch.set_num_threads(1)
    fused_threads.set_threads(args.threads)
    table = Table()
    start = time.perf_counter()
    print(f"command: python3 benchmarks/perf_targets.py {' '.join(sys.argv[1:])}; torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, pinned to CPUs {sorted(os.sched_getaffinity(0))}, load average {os.getloadavg()}\n")
    print(table.markdown(), end="")
    runners = {"slip": lambda: target_slip(table, args.reps, args.slip_steps),
               "one_run": lambda: target_one_run(table, args.reps), "jax": lambda: target_jax(table, args.reps),
               "peer": lambda: target_peer(table, args.reps, args.peer, args.peer_python, args.threads),
               "shares": lambda: target_shares(table, args.reps)}
    for name in args.targets:
        runners[name]()
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    if args.out is not None:
        args.out.write_text(f"Command: `python3 benchmarks/perf_targets.py {' '.join(sys.argv[1:])}`\n\n" + table.markdown())


if __name__ == "__main__":
    main()
