"""Closed-form oracles and ground truth of every family against autograd and finite differences."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from synth_checks import autograd_grad, clip_rows, central_difference, joint_hessian, spectral_norm
from ubo.synthetic.strategies import points, problems


def close(a, b, rtol=1e-9, atol=1e-9):
    scale = atol * (1 + b.abs().max())
    torch.testing.assert_close(a, b, rtol=rtol, atol=float(scale))


@given(problems(noise=False), st.data())
def test_closed_form_derivatives_equal_autograd(problem, data):
    x, y = data.draw(points(problem, runs=2))
    v = data.draw(points(problem, runs=2))[1]
    gx, gy = problem.grad_f(x, y)
    close(gx, autograd_grad(problem.f, x, y, wrt=0))
    close(gy, autograd_grad(problem.f, x, y, wrt=1))
    close(problem.grad_y_g(x, y), autograd_grad(problem.g, x, y, wrt=1))

    def inner(x_, y_):  # <grad_y g, v>: its y-gradient is the HVP, its x-gradient the JVP
        return (torch.autograd.grad(problem.g(x_, y_).sum(), y_, create_graph=True)[0] * v).sum(dim=1)

    xr, yr = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
    hv, jv = torch.autograd.grad(inner(xr, yr).sum(), (xr, yr))[::-1]
    close(problem.hvp_yy(x, y, v), hv)
    close(problem.jvp_xy(x, y, v), jv)
    hessian = joint_hessian(problem.g, x, y)
    close(problem.hessian_yy(x, y), hessian[:, problem.dim_x:, problem.dim_x:])


@given(problems(noise=False), st.data())
def test_ground_truth(problem, data):
    x, _ = data.draw(points(problem, runs=3))
    y_star = problem.y_star(x)
    # y* zeroes grad_y g
    assert float(problem.grad_y_g(x, y_star).norm(dim=1).max()) < 1e-10 * (1 + float(y_star.norm()))
    # z* solves grad2_yy g z = grad_y f at y*
    z_star = problem.z_star(x)
    _, gy = problem.grad_f(x, y_star)
    close(problem.hvp_yy(x, y_star, z_star), gy)
    # Phi = f(x, y*(x)); grad Phi equals central differences of Phi and autograd through y*
    close(problem.phi(x), problem.f(x, y_star), rtol=1e-12, atol=1e-12)
    grad_phi = problem.grad_phi(x)
    torch.testing.assert_close(grad_phi, central_difference(problem.phi, x), rtol=1e-6,
                               atol=1e-7 * (1 + float(problem.phi(x).abs().max())))
    close(grad_phi, autograd_grad(problem.phi, x), rtol=1e-8, atol=1e-8)


@given(problems(noise=False), st.data())
def test_mu_and_lg1_against_eigenvalues(problem, data):
    """lambda_min(grad2_yy g) >= mu everywhere (with equality for the constant-Hessian families), and the
    joint Hessian of g has norm <= l_g1 (on the certified tube ||y|| <= radius_y for curvature)."""
    x, y = data.draw(points(problem, runs=3))
    c = problem.constants
    if problem.name == "curvature":
        y = clip_rows(y, problem.radius_y)
    eig = torch.linalg.eigvalsh(problem.hessian_yy(x, y))
    assert float(eig[:, 0].min()) >= c.mu * (1 - 1e-12)
    if problem.name != "curvature":
        torch.testing.assert_close(eig[:, 0], torch.full_like(eig[:, 0], c.mu), rtol=1e-10, atol=1e-12)
    joint = spectral_norm(joint_hessian(problem.g, x, y))
    assert float(joint.max()) <= c.l_g1 * (1 + 1e-10)
    if problem.name == "quadratic":  # exact; F2/F3 certify max(joint norm, L_g) (||A|| < L_g when dim_y = 1)
        torch.testing.assert_close(joint, torch.full_like(joint, c.l_g1), rtol=1e-10, atol=1e-12)
    if problem.name in ("coupled", "decoupled"):
        assert abs(max(float(joint.max()), problem.params["L_g"]) - c.l_g1) <= 1e-10 * c.l_g1
