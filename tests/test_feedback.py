"""Feedback and results: the runner's bars appear on long runs (estimated from the first steps) and on
long inits, memory is estimated before a run, report folders are checked first, readable by the group,
never lost on a name collision, and record the git commit."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from ubo import algorithms
from ubo.algorithms import runner
from ubo.synthetic import make_problem
from ubo.theory import report


@dataclass
class Slow:
    """A wrapper that sleeps in init (between oracle calls) and in every step: a slow method, as seen by the runner."""

    inner: object
    step_seconds: float = 0.0
    init_calls: int = 0
    name: str = "slow"

    def init(self, oracle, x0, y0):
        state = self.inner.init(oracle, x0, y0)
        for _ in range(self.init_calls):
            time.sleep(0.01)
            oracle.grad_g(state.x, state.y)
        return state

    def step(self, oracle, state):
        time.sleep(self.step_seconds)
        return self.inner.step(oracle, state)

    def hyper(self):
        return self.inner.hyper()


@pytest.fixture
def fast_thresholds(monkeypatch):
    monkeypatch.setattr(runner, "AUTO_PROGRESS_SECONDS", 0.3)
    monkeypatch.setattr(runner, "_ESTIMATE_AFTER", 0.05)


def _run(algo, steps, capsys, **kw):
    algorithms.run(algo, make_problem("coupled", dim_x=2, dim_y=2), runs=2, steps=steps, **kw)
    return capsys.readouterr().err


def test_a_long_run_shows_its_bar_from_an_early_estimate(fast_thresholds, capsys):
    """40 steps of 20 ms (0.8 s expected > 0.3 s): the bar appears although steps << 10 000 (the old rule)."""
    err = _run(Slow(algorithms.make("soba"), step_seconds=0.02), 40, capsys)
    assert "slow" in err and "/40" in err


def test_a_short_run_stays_quiet(fast_thresholds, capsys):
    assert _run(Slow(algorithms.make("soba")), 40, capsys) == ""


def test_progress_false_hides_every_bar(fast_thresholds, capsys):
    assert _run(Slow(algorithms.make("soba"), step_seconds=0.02, init_calls=40), 40, capsys, progress=False) == ""


def test_a_long_init_has_its_own_bar(fast_thresholds, capsys):
    """A warm start of 60 oracle calls of 10 ms: its bar appears once init has taken 0.3 s."""
    err = _run(Slow(algorithms.make("soba"), init_calls=60), 2, capsys)
    assert "slow init" in err and "oracle calls" in err


def test_memory_estimate_covers_what_a_run_records():
    trace = algorithms.run(algorithms.make("soba"), make_problem("coupled", dim_x=3, dim_y=2), runs=50, steps=100,
                           record_every=3)
    recorded = sum(v.numel() * v.element_size() for v in trace.series.values())
    estimate = runner.memory_estimate(50, 100, 3, 3, 2)
    series_part = estimate - 8 * runner.STATE_COPIES * 50 * (3 + 2)
    assert recorded <= series_part <= 1.05 * recorded


def test_a_run_that_cannot_fit_is_refused_before_work(monkeypatch):
    monkeypatch.setattr(runner, "available_memory", lambda device: 10 * 2**20)
    need = runner.memory_estimate(10_000, 1000, 1, 2, 2)
    with pytest.raises(ValueError, match=rf"needs about {need / 2**30:.3g} GiB .* 0.00977 GiB are available"):
        algorithms.run(Slow(algorithms.make("soba"), step_seconds=60), make_problem("coupled", dim_x=2, dim_y=2),
                       runs=10_000, steps=1000)


def _write(path: Path) -> Path:
    verdict = pd.DataFrame({"probe": ["P1"], "holds": [True]})
    return report.write_report(path, verdict, {}, {}, {"problem": "coupled"}, [])


def test_report_folder_is_group_readable_and_records_the_commit(tmp_path):
    out = _write(tmp_path / "r")
    mode = stat.S_IMODE(out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o777 & ~umask  # what a plain mkdir gives (mkdtemp alone gives 0700)
    if not umask & 0o050:
        assert mode & 0o050 == 0o050
    versions = json.loads((out / "versions.json").read_text())
    root = Path(report.__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert versions["git_commit"] == head and len(head) == 40
    assert isinstance(versions["git_dirty"], bool) and versions["torch_threads"] >= 1


def test_a_name_taken_during_the_work_does_not_lose_the_report(tmp_path, monkeypatch):
    """Simulate another run finishing first under the same name (between the check and the final rename)."""
    target = tmp_path / "ubo-report-20261129-103726"
    checked = report.check_output_dir

    def check_then_taken(path):
        result = checked(path)
        target.mkdir()
        (target / "report.md").write_text("the other run's report")
        return result

    monkeypatch.setattr(report, "check_output_dir", check_then_taken)
    with pytest.warns(UserWarning, match="was taken"):
        out = _write(target)
    assert out == tmp_path / "ubo-report-20261129-103726-2" and (out / "report.md").exists()
    assert (target / "report.md").read_text() == "the other run's report"
