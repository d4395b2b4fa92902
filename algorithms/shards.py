"""One batched run split over worker processes: the runs, not the steps, are shared out.

    trace = run(algo, problem, runs=1000, steps=T, workers=4)     # the runs of run(..., workers=1)

Run r's noise is a function of (seed, r) only, and every operation of a step acts on each run's row on
its own, so the run ids can be cut into ``workers`` contiguous shards, each shard run as one batch in a
process of its own (one torch thread each), and the shards' traces joined along the run axis. The joined
trace is the one-process trace up to floating-point round-off, the guarantee a lone run has against a
batch (a matrix product may round differently with the batch size; tests/algorithms/test_runner_shards.py).
The wall time of the compute-bound part drops with the cores used; what does not shrink is each process's
per-step Python and dispatch cost, so the gain is largest for many runs. CPU problems only.
"""

from __future__ import annotations

import multiprocessing
import sys
import time

import numpy as np
import torch

from ubo.algorithms.trace import Trace
from ubo.synthetic import fused_threads

# Linux forks the workers (they start at once, with ubo imported, as torch's DataLoader workers do there;
# elsewhere they are spawned, which re-imports the calling script: guard it with
# ``if __name__ == "__main__":``, as any multiprocessing program.
START = "fork" if sys.platform.startswith("linux") else "spawn"


def check_workers(workers, problem) -> int:
    """``workers`` as an int >= 1; more than one needs a CPU problem (a GPU is shared by one process)."""
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if workers > 1 and torch.device(problem.device).type != "cpu":
        raise ValueError(f"workers must be 1 for a problem on {problem.device} (worker processes share out CPU "
                         f"cores), got {workers}")
    return int(workers)


def _run_shard(algorithm, problem, run_ids: list[int], kwargs: dict) -> Trace:
    """One shard in a worker: one thread (torch's and the fused kernels'), the ordinary one-process runner."""
    from ubo.algorithms.runner import run

    torch.set_num_threads(1)
    fused_threads.set_threads(1)
    return run(algorithm, problem, run_ids=run_ids, **kwargs)


def join(parts: list[Trace], wall_time: float) -> Trace:
    """The shards' traces, in shard order, as one trace over all their runs."""
    first = parts[0]
    for part in parts[1:]:
        if not torch.equal(part.step, first.step) or part.series.keys() != first.series.keys():
            raise RuntimeError("shards recorded different steps or series; they cannot be joined")
    meta = dict(first.meta)
    meta["run_ids"] = [r for part in parts for r in part.meta["run_ids"]]
    meta["runs"] = len(meta["run_ids"])
    meta["wall_time"] = wall_time
    return Trace(step=first.step,
                 series={name: torch.cat([p.series[name] for p in parts], dim=1) for name in first.series},
                 diverged=torch.cat([p.diverged for p in parts]),
                 diverged_at=torch.cat([p.diverged_at for p in parts]),
                 meta=meta,
                 summary={name: torch.cat([p.summary[name] for p in parts]) for name in first.summary})


def run_sharded(algorithm, problem, run_ids: torch.Tensor, workers: int, x0, y0, progress, **kwargs) -> Trace:
    """Cut ``run_ids`` into min(workers, R) contiguous shards, run each in a worker process, join the traces.

    x0, y0: the (R, d) starts, cut with the runs. The first shard shows the progress bar (the shards
    advance together)."""
    start = time.perf_counter()
    ids = np.asarray(run_ids.tolist(), dtype=np.int64)
    shards = np.array_split(np.arange(ids.size), min(workers, ids.size))  # none empty
    tasks = [(algorithm, problem, ids[s].tolist(),
              dict(kwargs, x0=x0[s], y0=y0[s], progress=progress if k == 0 else False)) for k, s in enumerate(shards)]
    # a Pool, not an executor: leaving the block terminates the workers, so an interrupt stops them at once
    with multiprocessing.get_context(START).Pool(len(shards)) as pool:
        parts = pool.starmap(_run_shard, tasks)
    return join(parts, time.perf_counter() - start)
