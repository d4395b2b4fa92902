"""Speed of the fused generator: one draw, and the generator's time inside a SLIP step, optionally against a baseline.

    python3 benchmarks/generator_speed.py [--baseline FILE] [--reps 3] [--calls 300] [--steps 200]

1. ``fused_rng.shaped_normals``: median microseconds per call (``--calls`` calls) for R in {1, 1000} and
   bounded parts (10,), (10, 10), (10, 10) with a row scale, and 20 raw normals.
2. SLIP on the noisy coupled family (d = 10, bounded noise on every call, ``benchmarks/algorithms_speed.py``'s
   ``oracle_share``) at R = 1000 and R = 1: ms per step, the generator's ms per step (``GeneratorClock``: the
   public draws of ``synthetic.rng.Draw``, wrapper included) and its share; median of ``--reps`` runs.

``--baseline FILE`` (e.g. an older ``synthetic/fused_rng.py`` from ``git show REV:synthetic/fused_rng.py``) loads
that module too and alternates the two in every measurement (the Draw wrapper is this checkout's in both).
One thread; pin it (``taskset -c 0``) on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from algorithms_speed import noisy_coupled, oracle_share  # noqa: E402

from ubo.synthetic import fused_rng  # noqa: E402
from ubo.synthetic.rng import run_keys  # noqa: E402


class SaltFirst:
    """A kernel module of before 30 Nov 2026 (``shaped_normals(keys, salt, ...)``) under today's call signature
    ``(keys, call, sub, ...)``: the salt computed in Python as the Draw wrapper of that time did."""

    def __init__(self, module):
        self.module = module

    def shaped_normals(self, keys, call, sub, *rest):
        return self.module.shaped_normals(keys, np.uint64(fused_rng.draw_salt(call, sub)), *rest)


def load_baseline(path: str):
    """Import a copy of ``path`` under its own name (numba's cache needs an importable module)."""
    folder = tempfile.mkdtemp()
    shutil.copy(path, os.path.join(folder, "fused_rng_baseline.py"))
    sys.path.insert(0, folder)
    module = importlib.import_module("fused_rng_baseline")
    return SaltFirst(module) if module.shaped_normals.py_func.__code__.co_varnames[1] == "salt" else module


def draw_table(variants: dict, calls: int) -> None:
    print("| R | parts | row scale | " + " | ".join(f"{name} us/call" for name in variants) + " |")
    print("|---" * (3 + len(variants)) + "|")
    empty = np.empty(0)
    for runs in (1, 1000):
        keys = run_keys(3, torch.arange(runs)).numpy().view(np.uint64)
        scale = np.linspace(0.5, 2.0, runs)
        for dims, mode, rows in (((10,), 1, empty), ((10, 10), 1, empty), ((10, 10), 1, scale), ((20,), 0, empty)):
            bounds = np.cumsum((0,) + dims)
            times = {name: [] for name in variants}
            for module in variants.values():
                module.shaped_normals(keys, 1, 0, sum(dims), mode, bounds, 0.1, rows)
            for i in range(calls):
                for name, module in variants.items():
                    start = time.perf_counter()
                    module.shaped_normals(keys, i + 2, 0, sum(dims), mode, bounds, 0.1, rows)
                    times[name].append(time.perf_counter() - start)
            label = "raw 20" if mode == 0 else str(dims)
            cells = [f"{statistics.median(t) * 1e6:.1f}" for t in times.values()]
            print(f"| {runs} | {label} | {'yes' if len(rows) else 'no'} | " + " | ".join(cells) + " |")


def step_table(variants: dict, reps: int, steps: int) -> None:
    print("\n| R | variant | ms / step | generator ms / step | generator share |")
    print("|---|---|---|---|---|")
    current = fused_rng.shaped_normals
    kernels = {name: module.shaped_normals for name, module in variants.items()}  # before any swap
    try:
        for runs, n in ((1000, steps), (1, 5 * steps)):
            rows = {name: [] for name in variants}
            for _ in range(reps):
                for name, kernel in kernels.items():
                    fused_rng.shaped_normals = kernel
                    _, share, ms = oracle_share("slip", noisy_coupled(10), runs, n)
                    rows[name].append((ms, share * ms, share))
            for name, values in rows.items():
                med = [statistics.median(v[i] for v in values) for i in range(3)]
                print(f"| {runs} | {name} | {med[0]:.3f} | {med[1]:.4f} | {100 * med[2]:.1f}% |")
    finally:
        fused_rng.shaped_normals = current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="an older fused_rng.py to alternate with")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    variants = {"baseline": load_baseline(args.baseline)} if args.baseline else {}
    variants["this checkout"] = fused_rng
    draw_table(variants, args.calls)
    step_table(variants, args.reps, args.steps)


if __name__ == "__main__":
    main()
