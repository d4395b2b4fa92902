"""benchmarks/peer_soba.py without the peer: a clear message, a "not measured" row, the callback's epoch count.

The measurement itself needs a checkout of benchopt/benchmark_bilevel and a python with benchopt and jax;
no test here needs them (the figures are in benchmarks/RESULTS.md with their command)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("args, says", [([], "Give --peer PATH"),
                                        (["--peer", "/nonexistent", "--peer-python", sys.executable],
                                         "no objective.py and solvers/soba.py there")])
def test_without_a_peer_the_harness_says_what_to_provide(args, says):
    out = subprocess.run([sys.executable, str(BENCH / "peer_soba.py"), *args], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert says in out.stderr and "benchmark_bilevel" in out.stderr and "benchopt" in out.stderr


def test_perf_targets_row_says_not_measured_without_a_peer():
    targets = load("perf_targets")
    table = targets.Table()
    targets.target_peer(table, 1, None, None, 1)
    assert len(table.rows) == 1
    assert "benchmark_bilevel" in table.rows[0] and "| not measured |" in table.rows[0] and "--peer" in table.rows[0]


class FakeSolver:
    """The peer's run loop (StochasticJaxSolver.run): one epoch per True from the callback."""

    def __init__(self):
        self.inner_var = self.outer_var = [0.0]
        self.epochs = 0

    def run(self, callback):
        while callback():
            self.epochs += 1


class OneEpochTooMany:
    """A planted bug: lets one more epoch run than asked (the iterations would be under-counted)."""

    def __init__(self, solver, epochs):
        self.solver, self.left = solver, epochs + 1

    def __call__(self):
        self.left -= 1
        return self.left >= 0


def epochs_run(callback_class, epochs):
    solver = FakeSolver()
    callback = callback_class(solver, epochs)
    solver.run(callback)
    return solver.epochs, callback


def test_callback_lets_exactly_the_asked_epochs_run_and_times_them():
    pytest.importorskip("jax")  # the callback blocks on the result with jax.block_until_ready
    peer_soba = load("peer_soba")
    for epochs in (1, 3):
        ran, callback = epochs_run(peer_soba.StopAfter, epochs)
        assert ran == epochs and callback.wall >= 0 and callback.cpu >= 0
    assert epochs_run(OneEpochTooMany, 3)[0] != 3  # the planted bug is visible to the count above


def test_markdown_verdict_is_against_10x():
    peer_soba = load("peer_soba")
    row = dict(peer="float32", ubo="quadratic (x)", ratios=[9.0, 9.9, 10.5], peer_rate=1e4, ubo_rate=9.9e4,
               cpu_per_wall=(1.0, 1.0), loads=(0.1, 0.2), dim=10, runs=1000, cpus=(0,))
    assert "| missed |" in peer_soba.markdown(dict(row, ratio=9.9))
    assert "| met |" in peer_soba.markdown(dict(row, ratio=10.0))
