"""When a fused kernel (synthetic.fused_rng, synthetic.fused_minibatch) splits its runs over threads.

Every fused kernel computes each run's row on its own, in an order fixed by the run alone, so the runs can be
cut into contiguous chunks, one per thread (numba's prange), and the result is the serial call's, bit for bit
(tests/synthetic/test_synth_fused_threads.py). A call splits when

    chunks = min(threads, the CPUs this process may use, numba's pool size, runs) >= 2,
    threads = ``set_threads(k)``'s k, or torch.get_num_threads() until it is called (or after set_threads(None)),
    and its estimated serial time (the call's elements times the NS_* of its kind, measured on one core of the
    2-core machine) is at least MIN_NS = 200 us. One call alone gains from about 10 us (the pool's launch takes
    5 us), but inside a run the gain on calls of about 100 us did not show: SLIP at d = 10 took 20.1 s on two
    threads, every draw split, against 20.3 s on one (benchmarks/RESULTS.md, sixth pass), while the finite-sum averages
    (300-700 us a call) and the epoch permutations (ms) gain 1.4-1.9x. So only calls from 200 us split.

By default torch's intra-op thread count is the knob: ``torch.set_num_threads(1)`` keeps every kernel serial, as
the worker processes of ``run(..., workers=k)`` and of the sweeps already do. ``set_threads(k)`` decouples the two:
torch's kernels on one thread and the fused ones on two was the fastest finite-sum SOBA step measured on the 2-core
machine (3.8-4.0 against 4.3-4.4 ms with both on two threads; torch's small kernels lose on two threads).

numba picks its threading layer (OpenMP here, or TBB); its fallback, the workqueue, takes ~70 us a launch
against OpenMP's ~5 us, so where it is the layer every call stays serial. A forked child of a process
that has used GNU OpenMP must not use it again (numba aborts it): ``run(..., workers=k)`` forks, so a process
that is not the one whose calls first split stays serial. The pool takes one call at a time here: a call made
from another Python thread meanwhile runs serially (the same bits).
"""
from __future__ import annotations

import os
import threading

import torch

try:
    import numba
except ImportError:  # pragma: no cover - exercised on installs without numba
    numba = None

MIN_NS = 200_000  # estimated serial nanoseconds below which a call stays serial
NS_WORD, NS_NORMAL = 1.0, 5.0  # per element: a hashed word (bits, uniforms); a shaped normal
NS_MULADD, NS_SORTED = 0.5, 10.0  # per minibatch multiply-add (rows x width read); per element of a permutation

_held = threading.Lock()
_setting: list = [None]  # set_threads's count; None: follow torch.get_num_threads()
_first = {}  # "pid": the process whose calls split first (a forked child's stay serial); "layer": numba's layer


def set_threads(count: int | None) -> int | None:
    """The most threads a fused kernel call may use from now on (1: serial; None: torch.get_num_threads(), the
    default); returns the previous setting."""
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be an integer >= 1 or None (follow torch's thread count), got {count!r}")
    previous, _setting[0] = _setting[0], count
    return previous


def chunks(runs: int, ns: float) -> int:
    """How many contiguous chunks a call over ``runs`` runs, estimated at ``ns`` serial nanoseconds, is cut into."""
    if numba is None or ns < MIN_NS or (_first and (_first["pid"] != os.getpid() or _first["layer"] == "workqueue")):
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = torch.get_num_threads() if _setting[0] is None else _setting[0]
    return max(1, min(threads, cpus, numba.config.NUMBA_NUM_THREADS, runs))


def call(serial, split, runs: int, ns: float, *args):
    """serial(*args), or split(k, *args) with the runs cut into k >= 2 chunks (``chunks``) when this thread can
    hold the pool; both return the same array."""
    k = chunks(runs, ns)
    if k > 1 and _held.acquire(blocking=False):
        try:
            out = split(k, *args)
            if not _first:
                _first.update(pid=os.getpid(), layer=numba.threading_layer())
            return out
        finally:
            _held.release()
    return serial(*args)
