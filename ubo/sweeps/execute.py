"""Run the missing cells of a sweep: in this process, in local worker processes, or as Ray tasks.

    run_sweep(spec, store, backend="local", workers=1)      # cached: finished cells are skipped

Every backend runs the same function on each missing cell (``run_cell``: mark running, compute,
write whole, rename into place), so at one thread count the store's bits do not depend on the backend.
Workers set torch's thread count (default: cores // workers locally, 1 per Ray task, which reserves one
CPU) so that they do not oversubscribe the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
import torch

from ubo.progress import tqdm
from ubo.sweeps.cell import compute
from ubo.sweeps.spec import Cell, SweepSpec
from ubo.sweeps.store import Store

BACKENDS = ("local", "ray")


def run_cell(root: str, key: str, config: dict, threads: int, progress: bool | None = False) -> str:
    """Compute one cell into the store at ``root`` unless it is already there; return its state."""
    store = Store(root)
    if store.is_done(key):
        return "done"
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    store.mark_running(key)
    try:
        outcome = compute(config, progress=progress)
        store.write(Cell(key, config), outcome)
    finally:
        store.clear_running(key)
        torch.set_num_threads(previous)
    return outcome["status"]


def pending(spec: SweepSpec, store: Store, retry_failed: bool = False) -> list[Cell]:
    """The cells still to compute: not done, not failed (unless retried), not running elsewhere."""
    todo = []
    for cell in spec.cells():
        if store.is_done(cell.key) or store.running(cell.key):
            continue
        if store.is_failed(cell.key):
            if not retry_failed:
                continue
            store.forget_failure(cell.key)
        todo.append(cell)
    return todo


def _check(backend: str, workers: int, threads: int | None) -> int:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if threads is None:  # a Ray task reserves one CPU of whatever node runs it
        return 1 if backend == "ray" else max(1, (os.cpu_count() or 1) // workers)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1 or None (cores // workers), got {threads!r}")
    return threads


def run_sweep(spec: SweepSpec, store, backend: str = "local", workers: int = 1, threads: int | None = None,
              ray_address: str | None = None, retry_failed: bool = False, progress: bool = True,
              cell_progress: bool | None = None) -> pd.DataFrame:
    """Compute every missing cell of ``spec`` into ``store`` (a Store or a path); return the status table.

    backend: "local" (``workers`` processes; 1 = this process) or "ray" (one task per cell on the
    cluster at ``ray_address``, or on a local Ray instance with ``workers`` CPUs; an already
    initialised Ray is used as it is). progress: a bar over cells; cell_progress: the runner's bar
    within each cell (None = the runner's default).
    """
    threads = _check(backend, workers, threads)
    store = store if isinstance(store, Store) else Store(store)
    store.clean_orphans()
    todo = pending(spec, store, retry_failed)
    root = str(Path(store.root).resolve())
    bar = tqdm(total=len(todo), desc=f"sweep {spec.name}", unit="cell", disable=not progress or not todo)
    if backend == "ray":
        _ray(todo, root, workers, threads, ray_address, cell_progress, bar)
    elif workers == 1:
        for cell in todo:
            run_cell(root, cell.key, cell.config, threads, cell_progress)
            bar.update()
    else:
        _pool(todo, store, root, workers, threads, cell_progress, bar)
    bar.close()
    return store.status(spec.cells())


def _pool(todo, store, root, workers, threads, cell_progress, bar) -> None:
    # Workers fork from a fresh server process that imported ubo once (a fork of this process could inherit
    # torch's thread pools in a broken state; spawning would import torch once per worker).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ubo.sweeps.execute", "ubo.algorithms", "ubo.synthetic", "ubo.theory.probes"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_cell, root, c.key, c.config, threads, cell_progress): c for c in todo}
        for future in as_completed(futures):
            try:
                future.result()
            except Exception as err:  # noqa: BLE001 -- a worker that died: record the cell as failed
                _record_crash(store, futures[future], err)
            bar.update()


def _ray(todo, root, workers, threads, address, cell_progress, bar) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError("backend='ray' needs Ray: pip install 'ubo-bilevel[ray]'") from None
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address)
        else:
            start_local_ray(workers)
    try:
        task = ray.remote(num_cpus=1)(run_cell)
        refs = {task.remote(root, c.key, c.config, threads, cell_progress): c for c in todo}
        waiting = list(refs)
        store = Store(root)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            try:
                ray.get(done[0])
            except Exception as err:  # noqa: BLE001 -- a task whose worker died
                _record_crash(store, refs[done[0]], err)
            bar.update()
    finally:
        if started:  # leave a Ray the caller had initialised as it was
            ray.shutdown()


def start_local_ray(num_cpus: int, attempts: int = 3, **options) -> None:
    """ray.init of a local instance (no dashboard), retried: on an overloaded machine the raylet can miss
    Ray's fixed 30 s registration window ("The current node timed out during startup")."""
    import ray

    for attempt in range(attempts):
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, **options)
            return
        except Exception as err:  # noqa: BLE001 -- Ray raises a bare Exception on a start-up timeout
            ray.shutdown()
            if "timed out during startup" not in str(err) or attempt == attempts - 1:
                raise


def _record_crash(store: Store, cell: Cell, err: Exception) -> None:
    if not store.is_done(cell.key):
        store.write(cell, {"status": "failed", "error": f"worker died: {type(err).__name__}: {err}",
                           "traceback": "".join(traceback.format_exception(err))})
        store.clear_running(cell.key)
