"""Certified constants hold at generated points (autograd Hessians), including the stationary x = 0."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from synth_checks import clip_rows, joint_hessian, spectral_norm
from ubo.synthetic.strategies import points, problems
from ubo.synthetic.rng import CounterRNG

SLACK = 1 + 1e-9


def with_origin(x):
    """Append the row x = 0 (a stationary point of the cosh landscape, where its L0 is attained)."""
    return torch.cat((x, torch.zeros_like(x[:1])))


@given(problems(noise=False), st.data())
def test_upper_level_blocks_are_L0_L1_smooth(problem, data):
    """||d/du grad_x f|| <= L_x0 + L_x1 ||grad_x f|| and ||d/du grad_y f|| <= L_y0 + L_y1 ||grad_y f||."""
    x, y = data.draw(points(problem, runs=3))
    x, y = with_origin(x), with_origin(y)
    c, dx = problem.constants, problem.dim_x
    hess = joint_hessian(problem.f, x, y)
    gx, gy = problem.grad_f(x, y)
    assert bool((spectral_norm(hess[:, :dx, :]) <= (c.L_x0 + c.L_x1 * gx.norm(dim=1)) * SLACK + 1e-12).all())
    assert bool((spectral_norm(hess[:, dx:, :]) <= (c.L_y0 + c.L_y1 * gy.norm(dim=1)) * SLACK + 1e-12).all())


@given(problems(noise=False), st.data())
def test_hyperobjective_certificate_and_lower_bound(problem, data):
    x, _ = data.draw(points(problem, runs=3))
    x = with_origin(x)
    c = problem.constants
    phi = problem.phi(x)
    assert bool((phi >= c.phi_inf - 1e-9 * (1 + abs(c.phi_inf))).all())
    if c.phi_L0 is not None:
        hess = spectral_norm(joint_hessian(problem.phi, x))
        bound = c.phi_L0 + c.phi_L1 * problem.grad_phi(x).norm(dim=1)
        assert bool((hess <= bound * SLACK + 1e-12).all())


@given(problems(names=("coupled", "decoupled", "curvature"), noise=False), st.data())
def test_landscape_certificate(problem, data):
    x, _ = data.draw(points(problem, runs=3))
    x = with_origin(x)
    U = problem.U
    L0, L1 = U.certified
    hess = spectral_norm(joint_hessian(U.value, x))
    torch.testing.assert_close(U.hessian(x), joint_hessian(U.value, x), rtol=1e-9, atol=1e-9)
    assert bool((hess <= (L0 + L1 * U.grad(x).norm(dim=1)) * SLACK + 1e-12).all())


@given(problems(noise=False), st.data())
def test_lf0_bounds_grad_y_f_at_y_star(problem, data):
    """A2: ||grad_y f(x, y*(x))|| <= l_f0 (on the ball ||x|| <= radius for quadratic)."""
    x, _ = data.draw(points(problem, runs=4))
    if problem.name == "quadratic":
        x = clip_rows(x, problem.radius)
    _, gy = problem.grad_f(x, problem.y_star(x))
    assert float(gy.norm(dim=1).max()) <= problem.constants.l_f0 * SLACK


def cross_matrix(problem, x, y):
    """grad2_xy g as (R, dim_x, dim_y), column k = jvp_xy(e_k)."""
    eye = torch.eye(problem.dim_y, dtype=x.dtype)
    cols = [problem.jvp_xy(x, y, eye[k].expand_as(y)) for k in range(problem.dim_y)]
    return torch.stack(cols, dim=2)


@given(problems(names=("curvature",), noise=False), st.data())
def test_curvature_lg2_lipschitz_on_tube(problem, data):
    """grad2_yy g and grad2_xy g are l_g2-Lipschitz in (x, y) on ||y|| <= radius_y."""
    x1, y1 = data.draw(points(problem, runs=3))
    x2, y2 = data.draw(points(problem, runs=3))
    y1, y2 = clip_rows(y1, problem.radius_y), clip_rows(y2, problem.radius_y)
    dist = torch.cat((x1 - x2, y1 - y2), dim=1).norm(dim=1)
    l_g2 = problem.constants.l_g2
    d_yy = spectral_norm(problem.hessian_yy(x1, y1) - problem.hessian_yy(x2, y2))
    d_xy = spectral_norm(cross_matrix(problem, x1, y1) - cross_matrix(problem, x2, y2))
    assert bool((d_yy <= l_g2 * dist * SLACK + 1e-12).all())
    assert bool((d_xy <= l_g2 * dist * SLACK + 1e-12).all())
    assert l_g2 > 0 or float(problem.lam * problem.W.norm()) == 0  # zero only without x-dependence


@given(problems(names=("quadratic", "curvature"), noise=False), st.data(), st.integers(0, 1000))
def test_minibatch_noise_within_certified_sigmas(problem, data, seed):
    """Minibatch deviations stay below sigma_f, sigma_g1 (on the certified region) and sigma_g2 ||v||."""
    x, y = data.draw(points(problem, runs=64))
    v = data.draw(points(problem, runs=64))[1]
    if problem.name == "quadratic":
        x = clip_rows(x, problem.radius)
    y = clip_rows(y, problem.radius_y)
    c = problem.constants
    draw = CounterRNG(seed, torch.arange(64)).next()
    gx, gy = problem.grad_f(x, y)
    sx, sy = problem.sample_grad_f(x, y, draw)
    assert float(torch.cat((sx - gx, sy - gy), 1).norm(dim=1).max()) <= c.sigma_f * SLACK
    assert float((problem.sample_grad_g(x, y, draw) - problem.grad_y_g(x, y)).norm(dim=1).max()) <= c.sigma_g1 * SLACK
    hv, jv = problem.sample_hvp_jvp(x, y, v, draw)
    vn = v.norm(dim=1)
    assert bool(((hv - problem.hvp_yy(x, y, v)).norm(dim=1) <= c.sigma_g2 * vn * SLACK + 1e-12).all())
    assert bool(((jv - problem.jvp_xy(x, y, v)).norm(dim=1) <= c.sigma_g2 * vn * SLACK + 1e-12).all())
