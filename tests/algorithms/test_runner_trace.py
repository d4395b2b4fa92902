"""The runner and trace contract: recorded steps, series, summaries, frames, save/load, validation."""

from __future__ import annotations

import math

import pytest
import torch

from ubo import algorithms
from algo_helpers import EASY, easy_problem
from ubo.algorithms.runner import SERIES
from ubo.synthetic.logcosh_bilevel import LogcoshBilevel


class NoTruth(LogcoshBilevel):
    """A problem that hides its ground truth, as realistic tasks do, and reports a task metric."""

    has_ground_truth = False

    def metrics(self, x, y):
        return {"upper_loss": self.f(x, y)}


def test_recorded_steps_series_and_frame():
    problem = easy_problem("bounded", 0.1)
    trace = algorithms.run(algorithms.make("slip", **EASY["slip"]), problem, runs=3, steps=25, seed=2,
                           record_every=10, progress=False)
    assert trace.step.tolist() == [0, 10, 20, 25]
    assert set(SERIES) <= set(trace.series)
    for values in trace.series.values():
        assert values.shape == (4, 3) and values.dtype == torch.float64
    assert bool(torch.isnan(trace.series["step_length"][0]).all())
    per_iter = trace.series["oracle_calls"][1:] - trace.series["oracle_calls"][0]
    assert per_iter[:, 0].tolist() == [40, 80, 100]  # 4 calls per SLIP iteration
    x = problem.batch(problem.x0, 3)
    torch.testing.assert_close(trace.series["grad_phi_norm"][0], problem.grad_phi(x).norm(dim=1))
    frame = trace.to_frame()
    assert len(frame) == 12
    assert {"step", "run", "grad_phi_norm", "y_error", "oracle_calls", "diverged"} <= set(frame.columns)
    assert frame.loc[(frame.step == 20) & (frame.run == 1), "y_error"].item() == trace.series["y_error"][2, 1].item()
    assert trace.meta["algorithm"] == "slip" and trace.meta["runs"] == 3 and trace.meta["seed"] == 2
    assert trace.meta["constants"]["mu"] == problem.constants.mu


def test_method_without_z_or_m_records_nan():
    trace = algorithms.run(algorithms.make("stocbio", **EASY["stocbio"]), easy_problem(), runs=2, steps=3)
    assert bool(torch.isnan(trace.series["z_error"]).all()) and bool(torch.isnan(trace.series["m_error"]).all())
    assert bool(torch.isfinite(trace.series["y_error"]).all())


def test_save_load_round_trip(tmp_path):
    trace = algorithms.run(algorithms.make("adambo", **EASY["adambo"]), easy_problem("gaussian", 0.3), runs=3,
                           steps=12, record_every=5, every_step_summary=True)
    path = tmp_path / "trace.pt"
    trace.save(path)
    back = algorithms.Trace.load(path)
    assert back.equals(trace)
    assert back.meta == trace.meta
    assert back.to_frame().equals(trace.to_frame())


def test_every_step_summary_matches_a_record_every_step_run():
    problem = easy_problem("bounded", 0.2)
    algo = algorithms.make("slip", **EASY["slip"])
    trace = algorithms.run(algo, problem, runs=2, steps=20, record_every=1, every_step_summary=True, seed=4)
    g = trace.series["grad_phi_norm"]
    torch.testing.assert_close(trace.summary["avg_grad_phi_norm"], g[:-1].mean(dim=0))
    torch.testing.assert_close(trace.summary["min_grad_phi_norm"], g[:-1].min(dim=0).values)
    torch.testing.assert_close(trace.summary["max_y_error"], trace.series["y_error"].max(dim=0).values)
    torch.testing.assert_close(trace.summary["max_z_error"], trace.series["z_error"].max(dim=0).values)


def test_problem_without_ground_truth_records_metrics():
    problem = NoTruth(dim_x=2, dim_y=2, name="hidden")
    trace = algorithms.run(algorithms.make("soba"), problem, runs=2, steps=4, record_every=2)
    for name in ("grad_phi_norm", "phi", "y_error", "z_error", "m_error"):
        assert bool(torch.isnan(trace.series[name]).all())
    assert trace.series["upper_loss"].shape == (3, 2) and bool(torch.isfinite(trace.series["upper_loss"]).all())
    assert "upper_loss" in trace.to_frame().columns
    with pytest.raises(ValueError, match="every_step_summary"):
        algorithms.run(algorithms.make("soba"), problem, steps=2, every_step_summary=True)


def test_progress_bar(capsys):
    algorithms.run(algorithms.make("soba"), easy_problem(), steps=5, progress=True)
    assert "soba" in capsys.readouterr().err
    algorithms.run(algorithms.make("soba"), easy_problem(), steps=5)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kwargs, field", [
    (dict(steps=-1), "steps"), (dict(record_every=0), "record_every"), (dict(seed=-2), "seed"),
    (dict(runs=0), "runs"), (dict(progress="yes"), "progress"), (dict(x0=torch.zeros(7)), "x0"),
])
def test_runner_validates_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        algorithms.run(algorithms.make("slip"), easy_problem(), **kwargs)


def test_zero_steps_records_the_initial_state():
    trace = algorithms.run(algorithms.make("slip", warm_start=3), easy_problem(), runs=2, steps=0)
    assert trace.step.tolist() == [0]
    assert trace.series["calls_grad_g"][0].tolist() == [3.0, 3.0]
    assert not math.isnan(trace.series["phi"][0, 0].item())
