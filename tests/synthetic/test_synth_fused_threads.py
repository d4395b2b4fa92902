"""The fused kernels cut over threads give the serial kernels' bits, and synthetic.fused_threads splits only when
it should (enough work, more than one thread, the process that first split, the pool free)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from ubo import algorithms
from ubo.synthetic import fused_minibatch as fm
from ubo.synthetic import fused_rng as fr
from ubo.synthetic import fused_threads, make_problem

pytestmark = pytest.mark.skipif(not fr.AVAILABLE, reason="numba is not installed")
TWO_CPUS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")


def kernels(runs: int):
    """(name, serial, split, args) of every fused kernel that splits, on random inputs with ``runs`` runs."""
    rng = np.random.default_rng(runs)
    keys = rng.integers(0, 2**63, runs).astype(np.uint64)
    n, d, b = 300, 6, 10
    idx = rng.integers(0, n, (runs, b))
    data, point, labels = rng.standard_normal((n, d)), rng.standard_normal((runs, d)), rng.standard_normal(n)
    mats, v = rng.standard_normal((n, d, 4)), rng.standard_normal((runs, d))
    sort_keys = rng.integers(-2**63, 2**63 - 1, (runs, 50))
    sort_keys[:, 7] = sort_keys[:, 20]  # a tie, kept in index order
    bounds, scale = np.array([0, 7, 20]), rng.random(runs)
    return [("bits", fr.bits, fr.bits_split, (keys, 5, 2, 13)),
            ("uniforms", fr.uniforms, fr.uniforms_split, (keys, 5, 2, 13)),
            *[(f"shaped_normals mode {m}", fr.shaped_normals, fr.shaped_normals_split,
               (keys, 5, 2, 20, m, bounds, 0.3, scale)) for m in (fr.RAW, fr.BOUNDED, fr.GAUSSIAN)],
            ("mean_rows", fm._mean_rows, fm._mean_split, (idx, data)),
            ("rank_one_rows", fm._rank_one_rows, fm._rank_one_split, (idx, data, point, labels)),
            ("matvec_rows", fm._matvec_rows, fm._matvec_split, (idx, mats, v, False)),
            ("argsort_rows", fm._argsort_rows, fm._argsort_split, (sort_keys,))]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("runs", [1, 2, 5, 257])
def test_split_kernels_give_the_serial_bits(runs):
    for name, serial, split, args in kernels(runs):
        expected = serial(*args)
        for chunks in (2, 3, 4):
            assert same_bits(split(chunks, *args), expected), (name, runs, chunks)


def test_a_split_that_drops_the_last_rows_is_caught():
    """Planted: chunks of runs // chunks rows each, so the remainder rows are never computed."""
    import numba

    @numba.njit(parallel=True)
    def short_chunks(chunks, idx, data):
        runs = idx.shape[0]
        out = np.zeros((runs, data.shape[1]))
        for c in numba.prange(chunks):
            fm._mean_into(out, idx, data, c * (runs // chunks), (c + 1) * (runs // chunks))
        return out

    _, serial, _, args = next(k for k in kernels(5) if k[0] == "mean_rows")
    assert not same_bits(short_chunks(2, *args), serial(*args))


def test_bad_indices_are_refused_when_split():
    """An exception inside a prange body would not reach the caller: the split kernels report it after the loop."""
    idx = np.zeros((100, 8), dtype=np.int64)
    idx[70, 3] = 50
    data, point = np.ones((50, 3)), np.ones((100, 3))
    for split, args in [(fm._mean_split, (idx, data)), (fm._rank_one_split, (idx, data, point, np.empty(0))),
                        (fm._matvec_split, (idx, np.ones((50, 3, 2)), point, False))]:
        with pytest.raises(ValueError, match="idx must hold sample indices"):
            split(2, *args)


@pytest.fixture
def threads():
    """torch.set_num_threads, with torch's count and fused_threads' own setting restored after the test."""
    previous, setting = torch.get_num_threads(), fused_threads.set_threads(None)
    yield torch.set_num_threads
    torch.set_num_threads(previous)
    fused_threads.set_threads(setting)


@TWO_CPUS
def test_when_a_call_splits(threads, monkeypatch):
    threads(2)
    assert fused_threads.chunks(1000, fused_threads.MIN_NS - 1) == 1  # too little work
    assert fused_threads.chunks(1, 1e9) == 1  # one run
    assert fused_threads.chunks(1000, 1e9) == 2
    threads(1)
    assert fused_threads.chunks(1000, 1e9) == 1  # torch's thread count is the knob
    threads(2)
    monkeypatch.setattr(fused_threads, "_first", {"pid": os.getpid() + 1, "layer": "omp"})
    assert fused_threads.chunks(1000, 1e9) == 1  # a forked child of the process that split
    monkeypatch.setattr(fused_threads, "_first", {"pid": os.getpid(), "layer": "workqueue"})
    assert fused_threads.chunks(1000, 1e9) == 1  # the slow fallback layer


@TWO_CPUS
def test_set_threads_decouples_the_fused_kernels_from_torch(threads):
    threads(1)
    assert fused_threads.set_threads(2) is None
    assert fused_threads.chunks(1000, 1e9) == 2  # torch on one thread, the fused kernels on two
    threads(2)
    fused_threads.set_threads(1)
    assert fused_threads.chunks(1000, 1e9) == 1
    assert fused_threads.set_threads(None) == 1
    assert fused_threads.chunks(1000, 1e9) == 2  # following torch again
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="count must be an integer >= 1 or None"):
            fused_threads.set_threads(bad)


@TWO_CPUS
def test_a_call_made_while_the_pool_is_held_runs_serially(threads):
    threads(2)

    def split(*args):
        raise AssertionError("the split kernel ran while another call held the pool")

    keys = np.arange(1000, dtype=np.uint64)
    with fused_threads._held:
        out = fused_threads.call(fr.bits, split, 1000, 1e9, keys, 1, 0, 64)
    assert same_bits(out, fr.bits(keys, 1, 0, 64))


@TWO_CPUS
@pytest.mark.parametrize("method, problem", [
    ("soba", lambda: make_problem("quadratic", dim_x=10, dim_y=10, n=256, batch_size=16, sampling="shuffle")),
    ("slip", lambda: make_problem("coupled", dim_x=10, dim_y=10, noise="bounded", sigma_f=0.1, sigma_g1=0.1,
                                  sigma_g2=0.1)),
])
def test_a_run_on_two_threads_is_the_run_on_one(threads, monkeypatch, method, problem):
    """The same trace, bit for bit, with every fused call split (MIN_NS = 0; counted) and serial. (At d = 10
    torch's own kernels stay on one thread; larger ones may round differently on two, which is torch's.)"""
    monkeypatch.setattr(fused_threads, "MIN_NS", 0)
    splits = []
    chunks = fused_threads.chunks
    monkeypatch.setattr(fused_threads, "chunks", lambda runs, ns: splits.append(chunks(runs, ns)) or splits[-1])
    traces = {}
    for count in (1, 2):
        threads(count)
        traces[count] = algorithms.run(algorithms.make(method), problem(), runs=400, steps=20, progress=False)
    assert max(splits) == 2  # the two-thread run did split
    for name, series in traces[1].series.items():
        assert torch.equal(series.nan_to_num(), traces[2].series[name].nan_to_num()), name


FORK = textwrap.dedent("""
    import multiprocessing, sys
    import numpy as np, torch
    from ubo.synthetic import fused_rng, fused_threads
    torch.set_num_threads(2)
    keys = np.arange(1000, dtype=np.uint64)
    fused_threads.call(fused_rng.bits, fused_rng.bits_split, 1000, 1e9, keys, 1, 0, 64)
    if fused_threads._first.get("layer") != "omp":
        sys.exit(3)
    def child(forget):
        if forget:  # planted: the child does not know its parent split
            fused_threads._first.clear()
        fused_threads.call(fused_rng.bits, fused_rng.bits_split, 1000, 1e9, keys, 1, 0, 64)
    process = multiprocessing.get_context("fork").Process(target=child, args=(sys.argv[1] == "forget",))
    process.start()
    process.join(60)
    sys.exit(0 if process.exitcode == 0 else 4)
""")


@TWO_CPUS
def test_a_forked_child_stays_serial():
    """GNU OpenMP aborts a forked child that uses it after its parent did; the child's calls stay serial.
    The planted child that forgets its parent split is aborted, so the guard is what keeps it alive."""
    runs = {how: subprocess.run([sys.executable, "-c", FORK, how], capture_output=True, timeout=120).returncode
            for how in ("keep", "forget")}
    if runs["keep"] == 3:
        pytest.skip("numba's threading layer here is not GNU OpenMP")
    assert runs == {"keep": 0, "forget": 4}
