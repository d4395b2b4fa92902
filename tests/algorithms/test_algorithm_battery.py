"""One battery over every registered algorithm (optax's shared-battery pattern)."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest
import torch

from ubo import algorithms
from ubo.algorithms.upper import adam_step_bound
from algo_helpers import EASY, NORMALIZED, batch, easy_problem, expected_calls

NAMES = sorted(algorithms.list_algorithms())


def test_every_registered_algorithm_has_battery_settings():
    assert set(EASY) == set(NAMES)
    assert set(NAMES) == {"borep", "slip", "adambo", "stocbio", "ttsa", "soba", "ma_soba", "f2sa", "accbo"}


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_convergence_on_easy_problem(name):
    problem = easy_problem()
    trace = algorithms.run(algorithms.make(name, **EASY[name]), problem, runs=1, steps=400, record_every=100)
    g = trace.series["grad_phi_norm"][:, 0]
    assert g[-1] <= 0.01 * g[0], g.tolist()
    assert trace.series["y_error"][-1, 0] <= 0.05
    assert not bool(trace.diverged.any())


@pytest.mark.parametrize("name", NAMES)
def test_oracle_calls_per_iteration_match_the_papers_accounting(name):
    problem = easy_problem("bounded", 0.1)
    algo = algorithms.make(name, **EASY[name])
    oracle = problem.oracle(runs=2, seed=3)
    state = algo.init(oracle, batch(problem.x0, 2), batch(problem.y0, 2))
    expected = torch.tensor(expected_calls(algo, -1))
    assert torch.equal(oracle.counts, expected.repeat(2, 1))
    for t in range(5):
        state = algo.step(oracle, state)
        expected = expected + torch.tensor(expected_calls(algo, t))
        assert torch.equal(oracle.counts, expected.repeat(2, 1)), (t, oracle.counts[0].tolist(), expected.tolist())
        assert state.t == t + 1


@pytest.mark.parametrize("name", NORMALIZED)
def test_normalized_methods_move_exactly_eta(name):
    trace = algorithms.run(algorithms.make(name, **EASY[name]), easy_problem("bounded", 0.3), runs=5, steps=50,
                           seed=1, every_step_summary=True)
    eta = EASY[name]["eta"]
    assert torch.allclose(trace.series["step_length"][1:], torch.full_like(trace.series["step_length"][1:], eta),
                          rtol=1e-12, atol=0)
    assert torch.allclose(trace.summary["max_step_length"], torch.full((5,), eta), rtol=1e-12, atol=0)
    assert torch.allclose(trace.summary["min_step_length"], torch.full((5,), eta), rtol=1e-12, atol=0)


@pytest.mark.parametrize("beta, beta_sq", [(0.5, 0.5), (0.1, 0.01), (0.01, 0.001)])
def test_adam_steps_bounded_per_coordinate(beta, beta_sq):
    hyper = {**EASY["adambo"], "beta": beta, "beta_sq": beta_sq, "eta": 0.05}
    algo = algorithms.make("adambo", **hyper)
    problem = easy_problem("student_t", 2.0)
    oracle = problem.oracle(runs=50, seed=0)
    state = algo.init(oracle, batch(problem.x0, 50), batch(problem.y0, 50))
    bound = adam_step_bound(hyper["eta"], beta, beta_sq, bias_correction=True)
    assert math.isfinite(bound)
    worst = 0.0
    for _ in range(60):
        new = algo.step(oracle, state)
        worst = max(worst, float((new.x - state.x).abs().max()))
        state = new
    assert 0 < worst <= bound * (1 + 1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_determinism_and_batched_equals_alone(name):
    problem = easy_problem("bounded", 0.2)
    algo = algorithms.make(name, **EASY[name])
    a = algorithms.run(algo, problem, runs=4, steps=30, seed=7, record_every=10)
    b = algorithms.run(algo, problem, runs=4, steps=30, seed=7, record_every=10)
    assert a.equals(b)
    alone = algorithms.run(algo, problem, steps=30, seed=7, record_every=10, run_ids=[2])
    for key, values in alone.series.items():
        torch.testing.assert_close(values[:, 0], a.series[key][:, 2], rtol=1e-12, atol=1e-13, equal_nan=True)
    other = algorithms.run(algo, problem, runs=4, steps=30, seed=8, record_every=10)
    assert not torch.equal(other.series["grad_phi_norm"], a.series["grad_phi_norm"])


@pytest.mark.parametrize("name", NAMES)
def test_divergence_reported_and_other_runs_continue(name):
    problem = easy_problem()
    hyper = dict(EASY[name])
    x0 = batch(problem.x0, 3)
    x0[1] = 3000.0  # cosh(L1 x) overflows: the gradient is inf, the next iterate non-finite
    trace = algorithms.run(algorithms.make(name, **hyper), problem, runs=3, steps=40, record_every=10, x0=x0)
    assert trace.diverged.tolist() == [False, True, False]
    assert int(trace.diverged_at[1]) == 1 and trace.diverged_at[[0, 2]].tolist() == [-1, -1]
    calls = trace.series["oracle_calls"]
    assert bool((calls[-1, [0, 2]] > calls[1, [0, 2]]).all())
    assert calls[-1, 1] == calls[1, 1]  # the diverged run stopped counting
    clean = algorithms.run(algorithms.make(name, **hyper), problem, runs=2, steps=40, record_every=10,
                           x0=x0[[0, 2]], run_ids=[0, 2])
    for key, values in clean.series.items():  # the survivors are untouched by the blow-up
        torch.testing.assert_close(values, trace.series[key][:, [0, 2]], rtol=1e-12, atol=1e-13, equal_nan=True)


def _bad_values(kind: str) -> list:
    return [-1, float("nan"), "bad", None] + ([1.0] if kind == "unit_open" else [])


@pytest.mark.parametrize("name", NAMES)
def test_every_hyperparameter_is_validated(name):
    cls = algorithms.get(name)
    default = cls()
    for f in fields(cls):
        for bad in [-1, -0.5, float("nan"), "bad", None, True if f.name not in cls._flags else 2]:
            with pytest.raises(ValueError, match=f.name):
                cls(**{**default.hyper(), f.name: bad})
        rule = cls._reals.get(f.name)
        if rule is not None and rule[1] == 1.0 and rule[3]:  # (.., 1) excludes 1
            with pytest.raises(ValueError, match=f.name):
                cls(**{**default.hyper(), f.name: 1.0})
        if rule is not None and rule[1] == math.inf and rule[3]:  # finite only
            with pytest.raises(ValueError, match=f.name):
                cls(**{**default.hyper(), f.name: math.inf})
    with pytest.raises(ValueError, match="bad hyperparameter"):
        algorithms.make(name, not_a_field=1)


def test_unknown_algorithm_name():
    with pytest.raises(ValueError, match="one of"):
        algorithms.make("sgd")


@pytest.mark.parametrize("name", ["slip", "adambo"])
def test_lower_level_stays_under_the_almost_sure_tracking_ceiling(name):
    """One SGD step per iteration with ||xi|| = sigma a.s. and an x-step of length <= s (the a.s. tracking ceiling of docs/theory.md):
    ||y_t - y*(x_t)|| <= ||y_0 - y*(x_0)|| + sigma / mu + ||J|| s / (gamma mu) for every t and run."""
    sigma = 0.3
    problem = easy_problem("bounded", sigma)
    hyper = {**EASY[name], "warm_start": 0}
    algo = algorithms.make(name, **hyper)
    y0 = problem.y_star(problem.x0[None])[0]  # start on y*(x0): the ceiling is the noise and drift terms only
    trace = algorithms.run(algo, problem, runs=200, steps=150, every_step_summary=True, seed=11, y0=y0)
    mu, gamma = problem.constants.mu, hyper["gamma"]
    if name == "slip":
        step = hyper["eta"]
    else:
        step = adam_step_bound(hyper["eta"], hyper["beta"], hyper["beta_sq"], True) * math.sqrt(problem.dim_x)
    ceiling = trace.series["y_error"][0] + sigma / mu + problem.drift_lipschitz * step / (gamma * mu)
    assert bool((trace.summary["max_y_error"] <= ceiling).all())
    ratio = float((trace.summary["max_y_error"] / ceiling).max())
    assert ratio > 0.3, ratio  # the ceiling is not vacuous here (measured 0.83-0.86)


FAMILIES = {"coupled": {}, "decoupled": {}, "quadratic": {"n": 64, "batch_size": 8}, "curvature": {}, "steep": {}}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", NAMES)
def test_every_algorithm_runs_batched_on_every_synthetic_family(name, family):
    """Small step sizes on every family: R = 4 runs stay finite, count calls and lower Phi on average."""
    from ubo.synthetic import list_problems, make_problem

    assert set(FAMILIES) == set(list_problems())
    problem = make_problem(family, dim_x=3, dim_y=3, **FAMILIES[family])
    hyper = {k: v for k, v in EASY[name].items() if k != "neumann_scale"}  # C = the family's l_g1
    trace = algorithms.run(algorithms.make(name, **hyper), problem, runs=4, steps=60, seed=3, record_every=20)
    assert not bool(trace.diverged.any())
    assert bool((trace.series["oracle_calls"][-1] > trace.series["oracle_calls"][0]).all())
    assert bool(torch.isfinite(trace.series["grad_phi_norm"]).all())
    assert float(trace.series["phi"][-1].mean()) < float(trace.series["phi"][0].mean())


@pytest.mark.parametrize("name", NAMES)
def test_step_records_the_hypergradient_estimate_it_formed(name):
    """state.h is the direction each method formed (before momentum / Adam / normalization)."""
    problem = easy_problem()
    algo = algorithms.make(name, **EASY[name])
    oracle = problem.oracle(runs=3, seed=1)
    state = algo.init(oracle, batch(problem.x0, 3), batch(problem.y0, 3))
    assert state.h is None
    new = algo.step(oracle, state)
    assert new.h is not None and new.h.shape == new.x.shape


@pytest.mark.parametrize("name", ["slip", "borep", "soba", "ma_soba"])
def test_recorded_estimate_is_the_z_based_hypergradient_without_noise(name):
    """h_t = grad_x f(x_t, y_t) - grad2_xy g(x_t, y_t) z_t, at the point where the method evaluated it."""
    problem = easy_problem()
    algo = algorithms.make(name, **EASY[name])
    oracle = problem.oracle(runs=2, seed=0)
    state = algo.init(oracle, batch(problem.x0, 2), batch(problem.y0, 2) + 0.3)
    state = algo.step(oracle, state)  # z_1 != 0, so the Jacobian term is exercised
    new = algo.step(oracle, state)
    y = state.y
    if name == "borep" and state.t % algo.period == 0:
        pytest.skip("refresh step evaluates at the refreshed y")
    gx, _ = problem.grad_f(state.x, y)
    expected = gx - problem.jvp_xy(state.x, y, state.z)
    torch.testing.assert_close(new.h, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["slip", "borep"])
def test_released_task_batch_multiplies_the_per_iteration_calls(name):
    problem = easy_problem("bounded", 0.1)
    algo = algorithms.make(name, **{**EASY[name], "task_batch": 3})
    oracle = problem.oracle(runs=2, seed=3)
    state = algo.init(oracle, batch(problem.x0, 2), batch(problem.y0, 2))
    expected = torch.tensor(expected_calls(algo, -1))
    for t in range(4):
        state = algo.step(oracle, state)
        expected = expected + torch.tensor(expected_calls(algo, t))
    assert torch.equal(oracle.counts, expected.repeat(2, 1))
    assert expected[0] == 3 * 4  # three grad_f samples per x step
