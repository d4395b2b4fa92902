"""The oracle's same-sample facility and AccBO's STORM estimator built on it."""

from __future__ import annotations

import contextlib

import pytest
import torch

from ubo import algorithms
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.algorithms.state import State
from ubo.synthetic import make_problem
from algo_helpers import batch


def _noisy(family="coupled"):
    return make_problem(family, dim_x=3, dim_y=2, noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.3)


@pytest.mark.parametrize("family", ["coupled", "quadratic", "curvature"])
def test_replay_gives_the_same_sample_at_the_same_point_and_counts_it(family):
    problem = make_problem(family, dim_x=3, dim_y=2, noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.3)
    oracle = problem.oracle(runs=4, seed=2)
    x, y = batch(problem.x0 + 0.3, 4), batch(problem.y0 + 0.2, 4)
    with oracle.recording() as tape:
        a = neumann_hypergradient(oracle, x, y, 10.0, 4)
        b = oracle.grad_g(x, y)
    before = oracle.counts.clone()
    with oracle.replaying(tape):
        a2 = neumann_hypergradient(oracle, x, y, 10.0, 4)
        b2 = oracle.grad_g(x, y)
    assert torch.equal(a, a2) and torch.equal(b, b2)
    # counted honestly: the replay costs as many calls as the recording (1 grad_f, 3 hvp, 1 jvp, 1 grad_g)
    assert torch.equal(oracle.counts - before, torch.tensor([1, 1, 3, 1]).repeat(4, 1))
    # and a fresh call afterwards is a new sample (the replay did not move the generator backwards)
    assert not torch.equal(oracle.grad_g(x, y), b)


def test_replay_at_another_point_cancels_additive_noise():
    """Same sample at two points: the difference is the exact difference (the additive noise cancels)."""
    problem = _noisy()
    oracle = problem.oracle(runs=3, seed=0)
    x, y = batch(problem.x0 + 0.3, 3), batch(problem.y0, 3)
    x2 = x + 0.01
    with oracle.recording() as tape:
        gx, gy = oracle.grad_f(x, y)
    with oracle.replaying(tape):
        gx2, gy2 = oracle.grad_f(x2, y)
    ex, _ = problem.grad_f(x, y)
    ex2, _ = problem.grad_f(x2, y)
    assert (gx - ex).abs().max() > 0.01                        # noisy
    assert torch.allclose(gx2 - gx, ex2 - ex, atol=1e-12)      # same noise at both points


def test_replay_rejects_a_different_call_sequence():
    problem = _noisy()
    oracle = problem.oracle(runs=1)
    x, y = batch(problem.x0, 1), batch(problem.y0, 1)
    with oracle.recording() as tape:
        oracle.grad_g(x, y)
    with pytest.raises(RuntimeError, match="grad_f call where the recording made a grad_g"):
        with oracle.replaying(tape):
            oracle.grad_f(x, y)
    with pytest.raises(RuntimeError, match="unused"):
        with oracle.replaying(tape):
            pass
    with pytest.raises(RuntimeError, match="beyond"):
        with oracle.replaying(tape):
            oracle.grad_g(x, y)
            oracle.grad_g(x, y)


def _momentum_minus_estimate(momentum: str, beta: float) -> float:
    problem = _noisy()
    algo = algorithms.AccBO(eta=0.01, beta=beta, gamma=0.2, neumann_scale=5.0, momentum=momentum)
    oracle = problem.oracle(runs=8, seed=1)
    state = algo.init(oracle, batch(problem.x0, 8), batch(problem.y0, 8))
    worst = 0.0
    for _ in range(30):
        state = algo.step(oracle, state)
        worst = max(worst, float(((state.m - state.h).norm(dim=1) / state.h.norm(dim=1)).max()))
    return worst


def test_accbo_storm_momentum_differs_from_the_raw_estimate():
    """The released recursion collapses to m_t = h_t (relative difference at round-off); STORM does not (the bug
    this option documents): its momentum stays at least 1e-3 away from the raw estimate (about 0.1 here)."""
    assert _momentum_minus_estimate("released", 0.9) < 1e-12
    assert _momentum_minus_estimate("storm", 0.9) > 1e-3


def test_accbo_storm_step_matches_the_formula():
    """m_t = beta m_{t-1} + (1 - beta) h_t + beta (h_t - g_t), g_t = the same samples at (x_{t-1}, yhat_{t-1})."""
    problem = _noisy()
    algo = algorithms.AccBO(eta=0.05, beta=0.7, gamma=0.2, theta=0.3, tau=0.5, neumann_scale=5.0, neumann_terms=3)
    oracle = problem.oracle(runs=2, seed=4)
    state = algo.step(oracle, algo.init(oracle, batch(problem.x0, 2), batch(problem.y0, 2)))
    assert torch.equal(state.m, state.h)  # m_0 = h_0
    # replay step t = 1 by hand on a twin oracle at the same counter
    twin = problem.oracle(runs=2, seed=4)
    twin.rng.calls = oracle.rng.calls
    new = algo.step(oracle, state)
    w, w_prev, y = algo._lower(twin, state.x, state.aux["w"], state.aux["w_prev"], state.y, 1)
    with twin.recording() as tape:
        h = neumann_hypergradient(twin, state.x, y, 5.0, 3)
    with twin.replaying(tape):
        g = neumann_hypergradient(twin, state.aux["x_prev"], state.aux["y_prev"], 5.0, 3)
    m = 0.7 * state.m + 0.3 * h + 0.7 * (h - g)
    assert torch.allclose(new.h, h, atol=1e-14) and torch.allclose(new.m, m, atol=1e-14)
    assert torch.allclose(new.x, state.x - 0.05 * m / m.norm(dim=1, keepdim=True), atol=1e-14)


def _direction_error(algo, runs=32, steps=60, broken_replay=False) -> float:
    """Mean over runs of ||m_t - hbar(x_t, yhat_t)|| at the last step, hbar the estimator's mean."""
    common = dict(dim_x=3, dim_y=2)
    problem = make_problem("coupled", noise="bounded", sigma_f=0.5, sigma_g1=0.01, sigma_g2=0.3, **common)
    mean_oracle = make_problem("coupled", noise="none", **common).oracle(runs=runs)
    oracle = problem.oracle(runs=runs, seed=0)
    if broken_replay:  # planted bug: the "replay" draws fresh samples (two independent estimates)
        oracle.replaying = lambda tape: contextlib.nullcontext()
    state = algo.init(oracle, batch(problem.x0, runs), batch(problem.y0, runs))
    for _ in range(steps):
        x = state.x
        state = algo.step(oracle, state)
    hbar = neumann_hypergradient(mean_oracle, x, state.y, algo.neumann_scale, algo.neumann_terms)
    return float((state.m - hbar).norm(dim=1).mean())


def test_accbo_storm_reduces_the_direction_error():
    """Variance reduction (the point of STORM): the momentum is closer to the estimator's mean than h_t is."""
    hyper = dict(eta=0.005, gamma=0.3, neumann_scale=5.0, neumann_terms=6, warm_start=20)
    storm = _direction_error(algorithms.AccBO(beta=0.9, **hyper))
    plain = _direction_error(algorithms.AccBO(beta=0.0, **hyper))
    released = _direction_error(algorithms.AccBO(beta=0.9, momentum="released", **hyper))
    assert released == pytest.approx(plain, rel=1e-9)   # the released recursion is normalized SGD
    assert storm < 0.5 * plain, (storm, plain)


def test_the_variance_check_catches_a_replay_that_draws_fresh_samples():
    """Planted bug: STORM on independent samples at the two points adds noise instead of removing it."""
    hyper = dict(eta=0.005, gamma=0.3, neumann_scale=5.0, neumann_terms=6, warm_start=20)
    broken = _direction_error(algorithms.AccBO(beta=0.9, **hyper), broken_replay=True)
    plain = _direction_error(algorithms.AccBO(beta=0.0, **hyper))
    assert not broken < 0.5 * plain, (broken, plain)  # the check above would fail on it
