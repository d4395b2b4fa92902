"""Sweep throughput: cells per minute with 1 and 2 local workers and through a local Ray instance, and how far
a sweep of 100 cells of 10^6 run-iterations each (SLIP, 1000 runs x 1000 steps) gets per hour.

    python3 benchmarks/sweep_throughput.py                       # small cells, then 100 big cells on 2 workers
    python3 benchmarks/sweep_throughput.py --big-cells 10        # time 10 of the 100 big cells, extrapolate

Each measurement uses a fresh store in a temporary folder and includes everything a user waits for: worker
start-up (spawned processes import torch), computing, writing the store. Ray's start-up (ray.init) is timed
apart. Prints a markdown table, with the machine's load average before and after each measurement, and checks
that every backend wrote the same bits.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ubo.sweeps import Store, SweepSpec, run_sweep
from ubo.sweeps.compare import differences


def spec(name: str, cells: int, runs: int, steps: int) -> SweepSpec:
    etas = [round(0.002 + 0.001 * i, 6) for i in range(cells)]
    return SweepSpec(name=name, problems=[{"name": "coupled", "params": {"dim_x": 10, "dim_y": 10}}],
                     noises=[{"noise": "bounded", "sigma_f": 0.1, "sigma_g1": 0.1, "sigma_g2": 0.1}],
                     algorithms=[{"name": "slip", "hyper": {"eta": etas}}],
                     runs=runs, steps=steps, record_every=max(1, steps // 10))


def load() -> str:
    return "{:.1f}".format(os.getloadavg()[0])


def timed(label: str, sweep: SweepSpec, root: Path, rows: list, **kwargs) -> Store:
    before = load()
    start = time.perf_counter()
    status = run_sweep(sweep, root, progress=False, **kwargs)
    seconds = time.perf_counter() - start
    done = int((status.state == "done").sum())
    rows.append((label, len(sweep.cells()), sweep.runs * sweep.steps, seconds, 60 * done / seconds, before, load()))
    print(rows[-1], flush=True)
    return Store(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=12, help="small cells per backend (default 12)")
    parser.add_argument("--runs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--big-cells", type=int, default=100, help="how many of the 100 big cells to time")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()

    rows: list = []
    small = spec("throughput", args.cells, args.runs, args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = timed("local, 1 worker (in process)", small, tmp / "one", rows, workers=1, threads=1)
        two = timed("local, 2 worker processes", small, tmp / "two", rows, workers=2)
        assert differences(one, two) == [], "2 workers wrote different bits"
        if not args.skip_ray:
            import ray

            from ubo.sweeps.execute import start_local_ray

            start = time.perf_counter()
            start_local_ray(2, log_to_driver=False)
            ray_start = time.perf_counter() - start
            ray_store = timed("Ray, local instance, 2 CPUs", small, tmp / "ray", rows, backend="ray", workers=2)
            ray.shutdown()
            assert differences(one, ray_store) == [], "Ray wrote different bits"
            print(f"ray.init (local instance, 2 CPUs): {ray_start:.1f} s, not included below")
        big = spec("big", 100, 1000, 1000)
        big = SweepSpec(**{**big.__dict__, "algorithms": [{"name": "slip", "hyper": {
            "eta": big.algorithms[0]["hyper"]["eta"][:args.big_cells]}}]})
        timed("local, 2 worker processes: 10^6 run-iterations per cell", big, tmp / "big", rows, workers=2)

    print("| backend | cells | run-iterations per cell | wall time (s) | cells / min | load before | load after |")
    print("|---|---|---|---|---|---|---|")
    for label, cells, size, seconds, rate, before, after in rows:
        print(f"| {label} | {cells} | {size:,} | {seconds:.1f} | {rate:.1f} | {before} | {after} |")
    rate = rows[-1][4]
    print(f"\n10^6 run-iterations x 100 cells: {60 * rate:.0f} cells per hour on 2 workers "
          f"({min(100.0, 60 * rate):.0f}% of the sweep in one hour; all 100 cells in {100 / rate:.1f} min)")


if __name__ == "__main__":
    main()
