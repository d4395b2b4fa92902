"""The store: cached cells, per-cell failures, atomic cells, a frame equal to the runner's own trace."""

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ubo.sweeps.execute as execute
from ubo import algorithms
from ubo.sweeps import Store, SweepSpec, run_sweep
from ubo.sweeps.compare import differences
from ubo.sweeps.store import verdict
from ubo.synthetic import make_problem
from sweep_helpers import tiny_spec


@pytest.fixture
def counted(monkeypatch):
    """Count the cells actually computed."""
    calls = []
    real = execute.compute

    def spy(config, progress=False):
        calls.append(config)
        return real(config, progress)

    monkeypatch.setattr(execute, "compute", spy)
    return calls


def test_frame_is_the_runners_trace_bit_for_bit(tmp_path):
    spec = tiny_spec(etas=(0.01,))
    run_sweep(spec, tmp_path, threads=1, progress=False)
    store = Store(tmp_path)
    frame = store.frame()
    cell = spec.cells()[0]
    problem = make_problem("coupled", dim_x=3, dim_y=3, noise="bounded", sigma_f=0.1, sigma_g1=0.1)
    direct = algorithms.run(algorithms.make("slip", eta=0.01), problem, runs=4, steps=12, seed=0, record_every=4)
    mine = frame[frame.cell == cell.key].reset_index(drop=True)
    assert len(frame) == 2 * 4 * 4                       # 2 cells x 4 recorded steps x 4 runs
    expected = direct.to_frame()
    for column in expected:
        a, b = mine[column].to_numpy(), expected[column].to_numpy()
        if b.dtype == object:  # names: compare values (bytes of an object array are pointers)
            assert a.tolist() == b.tolist(), column
        else:
            assert a.tobytes() == b.tobytes(), column
    assert store.trace(cell.key).equals(direct)
    assert set(mine["problem.noise"]) == {"bounded"} and set(mine["hyper.eta"]) == {0.01}


def test_rerun_computes_only_missing_cells(tmp_path, counted):
    run_sweep(tiny_spec(etas=(0.01,)), tmp_path, threads=1, progress=False)
    assert len(counted) == 2
    status = run_sweep(tiny_spec(etas=(0.01, 0.02)), tmp_path, threads=1, progress=False)
    assert len(counted) == 4 and list(status.state) == ["done"] * 4
    run_sweep(tiny_spec(etas=(0.01, 0.02)), tmp_path, threads=1, progress=False)
    assert len(counted) == 4


def test_failing_cell_is_recorded_and_the_sweep_goes_on(tmp_path, counted):
    spec = tiny_spec(etas=(-1.0, 0.01))                  # eta = -1 fails SLIP's validation
    status = run_sweep(spec, tmp_path, threads=1, progress=False)
    assert sorted(status.state) == ["done", "done", "failed", "failed"]
    store = Store(tmp_path)
    failed = store.cells().query("state == 'failed'")
    assert failed["error"].str.contains("eta").all()
    run_sweep(spec, tmp_path, threads=1, progress=False)
    assert len(counted) == 4                              # failures are cached too
    run_sweep(spec, tmp_path, threads=1, progress=False, retry_failed=True)
    assert len(counted) == 6


def test_diverged_runs_are_flagged_per_run(tmp_path):
    spec = SweepSpec(name="d", problems=[{"name": "coupled", "params": {"dim_x": 3, "dim_y": 3}}],
                     algorithms=[{"name": "soba", "hyper": {"alpha": 1e6, "gamma": 10.0}}], runs=3, steps=30)
    run_sweep(spec, tmp_path, threads=1, progress=False)
    store = Store(tmp_path)
    cells = store.cells()
    assert cells.state.tolist() == ["done"] and cells.n_diverged.item() == 3
    assert store.frame()["diverged"].all()


class NonAtomicStore(Store):
    """Planted bug: writes the cell folder in place, with no rename."""

    def write(self, cell, outcome):
        target = self.root / "cells" / cell.key
        target.mkdir()
        (target / "config.json").write_text("{}")
        trace = outcome["trace"]
        pq.write_table(pa.Table.from_pandas(trace.to_frame()), target / "frame.parquet")
        return True


@pytest.mark.parametrize("store_class, atomic", [(Store, True), (NonAtomicStore, False)])
def test_a_half_written_cell_is_never_read_as_finished(tmp_path, monkeypatch, store_class, atomic):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    cell = tiny_spec().cells()[0]
    outcome = execute.compute(cell.config)
    monkeypatch.setattr(pq, "write_table", crash)        # the process dies while writing the frame
    store = store_class(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        store.write(cell, outcome)
    assert store.is_done(cell.key) is not atomic         # the planted bug exposes a half-written cell
    if atomic:
        assert store.frame().empty and len(list((tmp_path / "tmp").iterdir())) == 1
        store.clean_orphans()                            # dead writer's folder: left while its pid lives
        assert len(list((tmp_path / "tmp").iterdir())) == 1


def test_second_writer_of_a_cell_is_dropped(tmp_path):
    cell = tiny_spec().cells()[0]
    outcome = execute.compute(cell.config)
    store = Store(tmp_path)
    assert store.write(cell, outcome) is True
    assert store.write(cell, outcome) is False
    assert store.keys() == [cell.key] and not list((tmp_path / "tmp").iterdir())


def test_orphans_of_dead_processes_are_cleaned(tmp_path):
    store = Store(tmp_path)
    dead = os.getpid() + 10_000_000                      # beyond pid_max: no such process
    orphan = tmp_path / "tmp" / f"abc.{os.uname().nodename}.{dead}.ff"
    orphan.mkdir()
    (tmp_path / "running" / "abc.json").write_text(f'{{"host": "{os.uname().nodename}", "pid": {dead}, "started": 0}}')
    assert store.state("abc") == "missing"
    assert store.clean_orphans() == 1 and not orphan.exists() and not (tmp_path / "running" / "abc.json").exists()


def test_probes_and_verdicts(tmp_path):
    run_sweep(tiny_spec(etas=(0.01,), probes=["stationarity", "tracking"]), tmp_path, threads=1, progress=False)
    store = Store(tmp_path)
    probes = store.probes()
    assert set(probes.probe) == {"P1", "P4"} and set(probes.cell) == set(store.keys())
    assert set(store.cells().verdict) <= {"holds", "fails", "report"}
    table = pd.DataFrame({"holds": pd.array([True, None, False], dtype="boolean")})
    assert verdict(table) == "fails" and verdict(table.iloc[:2]) == "holds" and verdict(table.iloc[1:2]) == "report"


def test_differences_sees_one_ulp(tmp_path):
    spec = tiny_spec(etas=(0.01,))
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    run_sweep(spec, a, threads=1, progress=False)
    run_sweep(spec, b, threads=1, progress=False)
    assert differences(a, b) == []
    key = a.keys()[0]
    path = b.root / "cells" / key / "frame.parquet"
    frame = pq.read_table(path).to_pandas()
    frame.loc[5, "phi"] = np.nextafter(frame.loc[5, "phi"], np.inf)   # planted: one value one ulp off
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    assert differences(a, b) == [f"cells/{key}/frame.parquet differs"]
    (b.root / "cells" / b.keys()[1]).rename(b.root / "tmp" / "gone")
    assert any("only in" in d for d in differences(a, b))


def test_theory_cells_use_the_papers_parameter_choice():
    from ubo.sweeps.cell import build_algorithm

    problem = make_problem("coupled", dim_x=3, dim_y=3)
    built = build_algorithm({"name": "slip", "theory": {"eps": 0.5, "delta": 0.2}}, problem)
    assert built == algorithms.get("slip").from_theory(problem.constants, eps=0.5, delta=0.2)
    assert build_algorithm({"name": "slip", "hyper": {"eta": 0.02}}, problem) == algorithms.make("slip", eta=0.02)
