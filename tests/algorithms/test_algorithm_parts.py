"""Shared parts: Neumann series, z-SGD with projection, upper-level updates, lower-level schedules."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from algo_helpers import easy_problem, tiny_problem
from ubo.algorithms import hypergradient as hg
from ubo.algorithms import lower, upper


@given(st.integers(1, 30), st.floats(1.0, 4.0))
def test_neumann_equals_truncated_inverse(terms, factor):
    """S_Q b = A^-1 (I - (I - A/C)^Q) b exactly, and the error obeys (1 - mu/C)^Q / mu (C >= l_g1)."""
    p = tiny_problem()
    scale = factor * float(torch.linalg.eigvalsh(p.A).max())
    b = torch.randn(4, 2, generator=torch.Generator().manual_seed(terms), dtype=torch.float64)
    x = torch.zeros(4, 2, dtype=torch.float64)
    out = hg.neumann(p.oracle(runs=4), x, x, b, scale, terms)
    eye = torch.eye(2, dtype=torch.float64)
    exact = torch.linalg.solve(p.A, (eye - torch.linalg.matrix_power(eye - p.A / scale, terms)) @ b.T).T
    torch.testing.assert_close(out, exact, rtol=1e-11, atol=1e-12)
    mu = float(torch.linalg.eigvalsh(p.A).min())
    err = (out - torch.linalg.solve(p.A, b.T).T).norm(dim=1)
    assert bool((err <= (1 - mu / scale) ** terms / mu * b.norm(dim=1) * (1 + 1e-9)).all())


def test_neumann_hvp_calls_and_off_by_one():
    p = tiny_problem()
    b = torch.ones(1, 2, dtype=torch.float64)
    oracle = p.oracle()
    hg.neumann(oracle, b, b, b, 5.0, 4)
    assert oracle.count_dict()["hvp"].item() == 3
    oracle = p.oracle()
    dropped = hg.neumann(oracle, b, b, b, 5.0, 4, drop_q0=True)
    assert oracle.count_dict()["hvp"].item() == 4
    full = hg.neumann(p.oracle(), b, b, b, 5.0, 5)
    last = full - hg.neumann(p.oracle(), b, b, b, 5.0, 4)   # v_4 = (I - A/C)^4 b / C
    torch.testing.assert_close(dropped, full - b / 5.0 + last)  # released: q = 0 dropped, v_Q counted twice


def test_z_sgd_converges_to_z_star_and_projection():
    p = tiny_problem()
    x = p.batch(p.x0, 1)
    y = p.y_star(x)
    _, gy = p.grad_f(x, y)
    z = torch.zeros_like(y)
    for _ in range(1500):
        z = hg.z_sgd_step(z, p.hvp_yy(x, y, z), gy, 0.1)
    torch.testing.assert_close(z, p.z_star(x), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(hg.exact_solve(p, x, y, gy), p.z_star(x))
    v = torch.tensor([[3.0, 4.0], [0.3, 0.4]], dtype=torch.float64)
    torch.testing.assert_close(hg.project_ball(v, 1.0), torch.tensor([[0.6, 0.8], [0.3, 0.4]], dtype=torch.float64))
    assert hg.project_ball(v, math.inf) is v


def test_upper_updates():
    x = torch.zeros(2, 3, dtype=torch.float64)
    h = torch.tensor([[3.0, 0.0, 4.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    step = upper.normalized_step(x, h, 0.5)
    torch.testing.assert_close(step[0].norm(), torch.tensor(0.5, dtype=torch.float64))
    assert torch.equal(step[1], x[1])  # a zero direction does not move
    clipped = upper.clipped_sgd(x, h, eta=1.0, clip=2.0)
    torch.testing.assert_close(clipped[0].norm(), torch.tensor(2.0, dtype=torch.float64))
    small = upper.clipped_sgd(x, h, eta=0.1, clip=2.0)
    torch.testing.assert_close(small, -0.1 * h)
    torch.testing.assert_close(upper.sgd(x, h, 0.1), -0.1 * h)
    torch.testing.assert_close(upper.momentum(h, 2 * h, 0.75), 1.25 * h)
    torch.testing.assert_close(upper.recursive_momentum(h, 2 * h, h, 0.5), 0.5 * h + h + 0.5 * h)


def test_adam_bound_formula_and_tightness():
    """Geometrically growing gradients approach the bound; it is never exceeded."""
    eta, beta, beta_sq = 1.0, 0.2, 0.1
    bound = upper.adam_step_bound(eta, beta, beta_sq)
    assert upper.adam_step_bound(1.0, 0.01, 0.5) == math.inf  # (1-beta)^2 >= 1-beta_sq: no bound
    x = m = v = torch.zeros(1, 1, dtype=torch.float64)
    worst = 0.0
    for t in range(200):  # geometric gradients maximise |m| / sqrt(v)
        h = torch.full((1, 1), ((1 - beta) ** 2 / (1 - beta_sq)) ** (-t / 2.0) * 1e-20, dtype=torch.float64)
        new, m, v = upper.adam_uncorrected(x, m, v, h, eta, beta, beta_sq, 0.0)
        worst = max(worst, float((new - x).abs().max()))
        x = new
    assert bound * 0.9 <= worst <= bound * (1 + 1e-12)


@pytest.mark.parametrize("beta, beta_sq", [(0.2, 0.1), (0.5, 0.5), (0.1, 0.001)])
def test_bias_corrected_adam_bound_holds_and_is_approached(beta, beta_sq):
    """The corrected bound (max over t) holds for geometric gradients, the sequences that maximise |mhat|/sqrt(vhat)."""
    bound = upper.adam_step_bound(1.0, beta, beta_sq, bias_correction=True)
    worst = 0.0
    for growth in (1.0, ((1 - beta) ** 2 / (1 - beta_sq)) ** -0.5):
        x = m = v = torch.zeros(1, 1, dtype=torch.float64)
        for t in range(1, 3000):  # h_t = growth^t, run in units of h_t (Adam is scale-free at lam = 0)
            h = torch.ones(1, 1, dtype=torch.float64)
            new, m, v = upper.adam_corrected(x, m / growth, v / growth**2, h, t, 1.0, beta, beta_sq, 0.0)
            worst = max(worst, float((new - x).abs().max()))
            x = new
    assert bound * 0.9 <= worst <= bound


def test_bias_corrected_adam_is_li_rakhlin_jadbabaie_algorithm_1():
    """m_hat = m_t / (1 - (1-beta)^t), v_hat = v_t / (1 - (1-beta_sq)^t); first step of a constant gradient = eta/(1+lam)."""
    beta = beta_sq = 1e-3
    x = m = v = torch.zeros(1, 2, dtype=torch.float64)
    h = torch.ones(1, 2, dtype=torch.float64)
    new, m, v = upper.adam_corrected(x, m, v, h, 1, 1.0, beta, beta_sq, 0.1)
    torch.testing.assert_close(new, -torch.full_like(h, 1 / 1.1))
    old, _, _ = upper.adam_uncorrected(x, h * 0, h * 0, h, 1.0, beta, beta_sq, 0.1)
    assert float(new.abs().max()) > 100 * float(old.abs().max())  # the review's factor of ~100 at t = 1


def test_torch_form_matches_torch_optim_adam():
    torch.manual_seed(0)
    w = torch.randn(1, 4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.02)
    x, m, v = w.detach().clone(), torch.zeros(1, 4, dtype=torch.float64), torch.zeros(1, 4, dtype=torch.float64)
    for t in range(1, 6):
        grad = torch.sin(torch.arange(4.0, dtype=torch.float64) * t).reshape(1, 4)
        w.grad = grad.clone()
        opt.step()
        x, m, v = upper.adam_torch(x, m, v, grad, t, 0.01, 0.2, 0.05, 1e-3, 0.02)
        torch.testing.assert_close(x, w.detach(), rtol=1e-12, atol=1e-14)


def test_lower_schedules_converge_and_count():
    p = easy_problem()
    x = p.batch(p.x0, 2)
    y0 = torch.zeros(2, 3, dtype=torch.float64)
    oracle = p.oracle(runs=2)
    y = lower.sgd_steps(oracle, x, y0, 0.4, 50)
    torch.testing.assert_close(y, p.y_star(x), rtol=0, atol=1e-8)
    y = lower.epoch_sgd(oracle, x, y0, 0.4, 4, 3)
    assert oracle.count_dict()["grad_g"].tolist() == [50 + 4 * 7] * 2
    assert float((y - p.y_star(x)).norm(dim=1).max()) < float((y0 - p.y_star(x)).norm(dim=1).min())
    radius = 0.01
    y = lower.epoch_sgd(p.oracle(runs=2), x, y0, 0.4, 4, 1, radius)
    assert float((y - y0).norm(dim=1).max()) <= radius + 1e-12
    w, prev, avg = y0, y0, y0
    oracle = p.oracle(runs=2)
    for _ in range(200):
        w, prev, avg = lower.nesterov_step(oracle, x, w, prev, avg, 0.3, 0.3, 0.5)
    torch.testing.assert_close(avg, p.y_star(x), rtol=0, atol=1e-8)
    assert oracle.count_dict()["grad_g"].tolist() == [200, 200]


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e-160, 1.0, 1e160, 1e300])
def test_normalized_step_has_length_eta_at_extreme_magnitudes(scale):
    """||m|| underflows (or overflows) in float64 beyond ~1e+-154: the step must still be exactly eta."""
    x = torch.zeros(4, 3, dtype=torch.float64)
    m = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [3.0, -4.0, 1e-3], [0.0, 0.0, 0.0]], dtype=torch.float64)
    step = (upper.normalized_step(x, scale * m, 0.01) - x).norm(dim=1)
    torch.testing.assert_close(step[:3], torch.full((3,), 0.01, dtype=torch.float64), rtol=1e-14, atol=0)
    assert step[3] == 0.0
    direction = upper.normalized_step(x, scale * m, 1.0)[:3]
    torch.testing.assert_close(direction, -m[:3] / m[:3].norm(dim=1, keepdim=True), rtol=1e-14, atol=1e-300)


# ---- issue 9: defaults and released-code options ------------------------------------------------------------
def test_z_projection_is_on_by_default_with_the_papers_radius():
    from ubo import algorithms

    problem = tiny_problem()
    c = problem.constants
    for name in ("slip", "borep", "ma_soba"):
        algo = algorithms.make(name)
        assert algo.z_radius == "paper"
        assert algo.resolved(problem).z_radius == pytest.approx(c.l_f0 / c.mu)
        assert algorithms.make(name, z_radius=math.inf).resolved(problem).z_radius == math.inf
    # a run starting far outside the ball is projected on the first step
    algo = algorithms.SLIP(nu=0.01)
    oracle = problem.oracle(runs=2)
    state = algo.init(oracle, problem.batch(problem.x0, 2), problem.batch(problem.y0, 2))
    from dataclasses import replace
    state = algo.step(oracle, replace(state, z=torch.full_like(state.z, 100.0)))
    assert float(state.z.norm(dim=1).max()) <= c.l_f0 / c.mu * (1 + 1e-12)


def test_problems_without_l_f0_get_no_projection():
    from types import SimpleNamespace

    from ubo.algorithms.hypergradient import resolve_z_radius

    task_like = SimpleNamespace(constants=SimpleNamespace(l_f0=None, mu=0.1, l_g1=1.0))
    assert resolve_z_radius("paper", task_like) == math.inf
    assert resolve_z_radius(2.0, task_like) == 2.0


def test_hyperparameters_accept_numpy_scalars_and_store_python_numbers():
    import numpy as np

    from ubo import algorithms

    algo = algorithms.SLIP(eta=np.float32(0.5), beta=np.float64(0.9), warm_start=np.int64(3), z_radius=np.float64(2))
    assert type(algo.eta) is float and type(algo.warm_start) is int and type(algo.z_radius) is float
    assert algo.warm_start == 3 and algo.eta == pytest.approx(0.5)
    with pytest.raises(ValueError, match="warm_start"):
        algorithms.SLIP(warm_start=np.float64(3.5))
    with pytest.raises(ValueError, match="z_radius must be 'paper' or a number"):
        algorithms.SLIP(z_radius="auto")
    with pytest.raises(ValueError, match="eta"):
        algorithms.SLIP(eta=np.bool_(True))


def test_help_describes_every_hyperparameter():
    from dataclasses import fields

    from ubo import algorithms

    for name in algorithms.list_algorithms():
        cls = algorithms.get(name)
        doc = cls.__doc__
        assert doc and "Hyperparameters:" in doc, name
        listed = doc.split("Hyperparameters:")[1]
        for f in fields(cls):
            assert f"\n    {f.name} " in listed, (name, f.name)
        assert "papers" + ".md" not in doc and "theory-probes" not in doc


def test_slip_released_jacobian_order():
    """jacobian='next': H at y_t, then y_{t+1}, then grad_y F, z_{t+1} and the Jacobian at y_{t+1} (noise-free)."""
    from ubo import algorithms
    from ubo.algorithms.state import State

    p = tiny_problem()
    g = torch.Generator().manual_seed(5)
    x, y, z, m = (0.3 * torch.randn(2, 2, generator=g, dtype=torch.float64) for _ in range(4))
    algo = algorithms.SLIP(eta=0.1, beta=0.5, gamma=0.2, nu=0.3, z_radius=math.inf, jacobian="next")
    new = algo.step(p.oracle(runs=2), State(x=x, y=y, z=z, m=m))
    y1 = y - 0.2 * p.grad_y_g(x, y)
    gx, gy = p.grad_f(x, y1)
    z1 = z - 0.3 * (p.hvp_yy(x, y, z) - gy)
    h = gx - p.jvp_xy(x, y1, z1)
    torch.testing.assert_close(new.y, y1)
    torch.testing.assert_close(new.z, z1)
    torch.testing.assert_close(new.h, h)


def test_accumulated_lower_steps_use_running_gradient_sums():
    """The released multi-step loops (no zero_grad): step s uses g_1 + ... + g_s; it differs from plain SGD."""
    p = tiny_problem()
    x = p.batch(p.x0, 1)
    y0 = p.batch(p.y0, 1) + 1.0
    y = y0
    total = torch.zeros_like(y)
    for _ in range(3):
        total = total + p.grad_y_g(x, y)
        y = y - 0.1 * total
    torch.testing.assert_close(lower.accumulated_sgd_steps(p.oracle(), x, y0, 0.1, 3), y)
    plain = lower.sgd_steps(p.oracle(), x, y0, 0.1, 3)
    assert float((plain - y).norm()) > 1e-3
