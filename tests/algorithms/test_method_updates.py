"""Per method: one step recomputed by hand from the closed forms on a tiny deterministic problem.

On F3 (coupled), with w = y - K x - t:  grad_x f = grad U(x) - c tanh(w) K (as rows),  grad_y f = c tanh(w),
grad_y g = A y - B x,  grad2_yy g v = A v,  grad2_xy g v = -B^T v. Noise is off, so every oracle call
returns these exactly and each update line can be checked on its own.
"""

from __future__ import annotations

import math

import pytest
import torch

from ubo import algorithms
from algo_helpers import tiny_problem
from ubo.algorithms.state import State

P = tiny_problem()
A, B, K, T, C = P.A, P.B, P.K, P.t, P.c
gen = torch.Generator().manual_seed(5)
X = torch.randn(3, 2, generator=gen, dtype=torch.float64)
Y = torch.randn(3, 2, generator=gen, dtype=torch.float64)
Z = torch.randn(3, 2, generator=gen, dtype=torch.float64)
M = torch.randn(3, 2, generator=gen, dtype=torch.float64)


def fx(x, y):
    return P.U.grad(x) - C * torch.tanh(y - x @ K.T - T) @ K


def fy(x, y):
    return C * torch.tanh(y - x @ K.T - T)


def gy(x, y):
    return y @ A.T - x @ B.T


def hvp(v):
    return v @ A.T


def jvp(v):
    return -(v @ B)


def neumann_by_hand(b, scale, terms, drop_q0=False):
    """(1/C) sum_q (I - A/C)^q b over q = 0..Q-1 (or the released 1..Q plus q = Q again)."""
    eye = torch.eye(2, dtype=torch.float64)
    step = eye - A / scale
    qs = list(range(1, terms + 1)) + [terms] if drop_q0 else range(terms)
    return sum(b @ torch.linalg.matrix_power(step, q).T for q in qs) / scale


def one_step(algo, state):
    oracle = P.oracle(runs=3)
    return algo.step(oracle, state)


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-14)


def normalize(m):
    return m / m.norm(dim=1, keepdim=True)


def test_slip_step():
    a = algorithms.SLIP(eta=0.03, beta=0.7, gamma=0.2, nu=0.15, z_radius=1.5)
    new = one_step(a, State(x=X, y=Y, z=Z, m=M))
    h = fx(X, Y) - jvp(Z)
    m = 0.7 * M + 0.3 * h
    close(new.m, m)
    close(new.x, X - 0.03 * normalize(m))
    close(new.y, Y - 0.2 * gy(X, Y))
    z = Z - 0.15 * (hvp(Z) - fy(X, Y))
    z = z * torch.clamp(1.5 / z.norm(dim=1, keepdim=True), max=1.0)
    close(new.z, z)
    assert bool((new.z.norm(dim=1) <= 1.5 + 1e-12).all())


def test_slip_warm_start():
    a = algorithms.SLIP(gamma=0.2, warm_start=3)
    state = a.init(P.oracle(runs=3), X, Y)
    y = Y
    for _ in range(3):
        y = y - 0.2 * gy(X, y)
    close(state.y, y)
    assert torch.equal(state.z, torch.zeros_like(Y)) and torch.equal(state.m, torch.zeros_like(X))


def test_slip_released_task_batch_steps_along_the_mean_of_successive_momenta():
    """task_batch = K: K y/z/momentum updates at fixed x, then one step along normalize(mean of the K m's)."""
    a = algorithms.SLIP(eta=0.03, beta=0.7, gamma=0.2, nu=0.15, z_radius=math.inf, task_batch=3)
    new = one_step(a, State(x=X, y=Y, z=Z, m=M))
    y, z, m, momenta = Y, Z, M, []
    for _ in range(3):
        h = fx(X, y) - jvp(z)
        y, z = y - 0.2 * gy(X, y), z - 0.15 * (hvp(z) - fy(X, y))
        m = 0.7 * m + 0.3 * h
        momenta.append(m)
    close(new.m, m)
    close(new.y, y)
    close(new.z, z)
    close(new.x, X - 0.03 * normalize(sum(momenta) / 3))


def test_borep_released_task_batch_steps_along_the_mean_of_successive_momenta():
    a = algorithms.BOREP(eta=0.05, beta=0.6, gamma=0.2, nu=0.1, period=3, lower_steps=2, z_radius=math.inf,
                         task_batch=2)
    new = one_step(a, State(x=X, y=Y, z=Z, m=M, t=4))
    z, m, momenta = Z, M, []
    for _ in range(2):
        h = fx(X, Y) - jvp(z)
        z = z - 0.1 * (hvp(z) - fy(X, Y))
        m = 0.6 * m + 0.4 * h
        momenta.append(m)
    close(new.m, m)
    close(new.z, z)
    close(new.x, X - 0.05 * normalize(sum(momenta) / 2))


def test_borep_step_with_and_without_refresh():
    a = algorithms.BOREP(eta=0.05, beta=0.6, gamma=0.2, nu=0.1, period=3, lower_steps=2)
    for t, refresh in ((3, True), (4, False), (0, False)):
        new = one_step(a, State(x=X, y=Y, z=Z, m=M, t=t))
        y = Y
        if refresh:
            for _ in range(2):
                y = y - 0.2 * gy(X, y)
        close(new.y, y)
        m = 0.6 * M + 0.4 * (fx(X, y) - jvp(Z))
        close(new.x, X - 0.05 * normalize(m))
        close(new.z, Z - 0.1 * (hvp(Z) - fy(X, y)))


def test_borep_released_code_jacobian_uses_new_z():
    a = algorithms.BOREP(eta=0.05, beta=0.6, gamma=0.2, nu=0.1, jacobian_new_z=True)
    new = one_step(a, State(x=X, y=Y, z=Z, m=M, t=1))
    z = Z - 0.1 * (hvp(Z) - fy(X, Y))
    close(new.m, 0.6 * M + 0.4 * (fx(X, Y) - jvp(z)))


def test_borep_epoch_sgd_init():
    a = algorithms.BOREP(epoch_gamma=0.3, epochs=2, first_epoch=2)
    state = a.init(P.oracle(runs=3), X, Y)
    y = Y
    for k in range(2):
        total, step = 0, 0.3 * 0.5**k
        for _ in range(2 * 2**k):
            y = y - step * gy(X, y)
            total = total + y
        y = total / (2 * 2**k)
    close(state.y, y)


def test_adambo_step_corrected_uncorrected_and_torch_forms():
    V = torch.rand(3, 2, generator=gen, dtype=torch.float64)
    common = dict(eta=0.02, beta=0.1, beta_sq=0.01, lam=0.05, gamma=0.2, neumann_scale=6.0, neumann_terms=4)
    h = fx(X, Y) - jvp(neumann_by_hand(fy(X, Y), 6.0, 4))
    m = 0.9 * M + 0.1 * h
    v = 0.99 * V + 0.01 * h * h
    new = one_step(algorithms.AdamBO(**common), State(x=X, y=Y, m=M, aux={"v": V}, t=2))  # default: corrected
    close(new.x, X - 0.02 * (m / (1 - 0.9**3)) / ((v / (1 - 0.99**3)).sqrt() + 0.05))
    close(new.y, Y - 0.2 * gy(X, Y))
    new = one_step(algorithms.AdamBO(**common, adam="uncorrected"), State(x=X, y=Y, m=M, aux={"v": V}, t=2))
    close(new.x, X - 0.02 * m / (v.sqrt() + 0.05))
    torch_form = one_step(algorithms.AdamBO(**common, adam="torch", weight_decay=0.01),
                          State(x=X, y=Y, m=M, aux={"v": V}, t=2))
    hw = h + 0.01 * X
    m = 0.9 * M + 0.1 * hw
    v = 0.99 * V + 0.01 * hw * hw
    close(torch_form.x, X - 0.02 * (m / (1 - 0.9**3)) / ((v / (1 - 0.99**3)).sqrt() + 0.05))


def test_adambo_released_neumann_off_by_one():
    a = algorithms.AdamBO(eta=0.02, beta=1.0, beta_sq=1.0, lam=0.05, neumann_scale=6.0, neumann_terms=3,
                          neumann_drop_q0=True)
    new = one_step(a, State(x=X, y=Y, m=M, aux={"v": M * 0}))
    h = fx(X, Y) - jvp(neumann_by_hand(fy(X, Y), 6.0, 3, drop_q0=True))
    close(new.x, X - 0.02 * h / (h.abs() + 0.05))


def test_stocbio_step():
    a = algorithms.StocBiO(alpha=0.1, gamma=0.2, lower_steps=3, neumann_scale=6.0, neumann_terms=5)
    new = one_step(a, State(x=X, y=Y))
    y = Y
    for _ in range(3):
        y = y - 0.2 * gy(X, y)
    close(new.y, y)
    close(new.x, X - 0.1 * (fx(X, y) - jvp(neumann_by_hand(fy(X, y), 6.0, 5))))


def test_ttsa_step_uses_the_new_lower_iterate():
    a = algorithms.TTSA(alpha=0.1, gamma=0.2, neumann_scale=6.0, neumann_terms=3)
    new = one_step(a, State(x=X, y=Y))
    y = Y - 0.2 * gy(X, Y)
    close(new.y, y)
    close(new.x, X - 0.1 * (fx(X, y) - jvp(neumann_by_hand(fy(X, y), 6.0, 3))))


def test_soba_and_ma_soba_steps():
    new = one_step(algorithms.SOBA(alpha=0.1, gamma=0.2, nu=0.3), State(x=X, y=Y, z=Z, m=M))
    h = fx(X, Y) - jvp(Z)
    close(new.x, X - 0.1 * h)
    close(new.y, Y - 0.2 * gy(X, Y))
    close(new.z, Z - 0.3 * (hvp(Z) - fy(X, Y)))
    new = one_step(algorithms.MASOBA(alpha=0.1, gamma=0.2, nu=0.3, beta=0.8, z_radius=0.5),
                   State(x=X, y=Y, z=Z, m=M))
    close(new.x, X - 0.1 * (0.8 * M + 0.2 * h))
    z = Z - 0.3 * (hvp(Z) - fy(X, Y))
    close(new.z, z * torch.clamp(0.5 / z.norm(dim=1, keepdim=True), max=1.0))


def test_soba_inv_sqrt_schedule_scales_every_step_size():
    """At t = 3 every step size is divided by sqrt(4) = 2; t = 0 is the constant step."""
    a = algorithms.SOBA(alpha=0.1, gamma=0.2, nu=0.3, schedule="inv_sqrt")
    close(one_step(a, State(x=X, y=Y, z=Z, m=M, t=0)).x, X - 0.1 * (fx(X, Y) - jvp(Z)))
    new = one_step(a, State(x=X, y=Y, z=Z, m=M, t=3))
    close(new.x, X - 0.05 * (fx(X, Y) - jvp(Z)))
    close(new.y, Y - 0.1 * gy(X, Y))
    close(new.z, Z - 0.15 * (hvp(Z) - fy(X, Y)))
    assert new.t == 4
    with pytest.raises(ValueError, match="schedule"):
        algorithms.SOBA(schedule="1/t")


def test_f2sa_step():
    a = algorithms.F2SA(alpha=0.1, gamma=0.2, lam0=2.0, lam_step=0.5)
    new = one_step(a, State(x=X, y=Y, aux={"lower": Z}, t=2))
    lam = 3.0
    close(new.aux["lower"], Z - 0.2 * gy(X, Z))
    close(new.y, Y - 0.2 * (fy(X, Y) / lam + gy(X, Y)))
    # grad_x g(x, y) = -B^T y: the penalty gradient difference is exact here
    close(new.x, X - 0.1 * (fx(X, Y) + lam * (-(Y @ B) + Z @ B)))


@pytest.mark.parametrize("momentum", ["storm", "released"])
def test_accbo_step(momentum):
    W, Wp = Y + 0.1, Y - 0.2
    Xp, Yp = X - 0.05, Y + 0.02
    a = algorithms.AccBO(eta=0.05, beta=0.7, gamma=0.2, theta=0.4, tau=0.3, neumann_scale=6.0, neumann_terms=3,
                         momentum=momentum)
    new = one_step(a, State(x=X, y=Y, m=M, aux={"w": W, "w_prev": Wp, "h_prev": Z, "x_prev": Xp, "y_prev": Yp},
                            t=1))
    u = W + 0.4 * (W - Wp)
    w = u - 0.2 * gy(X, u)
    yhat = 0.7 * Y + 0.3 * w
    close(new.aux["w"], w)
    close(new.aux["w_prev"], W)
    close(new.y, yhat)
    h = fx(X, yhat) - jvp(neumann_by_hand(fy(X, yhat), 6.0, 3))
    # STORM: the previous point's estimate on the same samples (noise-free here: the exact estimator there)
    g = fx(Xp, Yp) - jvp(neumann_by_hand(fy(Xp, Yp), 6.0, 3)) if momentum == "storm" else Z
    m = 0.7 * M + 0.3 * h + 0.7 * (h - g)
    close(new.h, h)
    close(new.m, m)
    close(new.x, X - 0.05 * normalize(m))


def test_f2sa_midpoint_jacobian_equals_the_grad_x_g_difference_on_every_family():
    """F2SA's departure (2): grad_x g(x, y) - grad_x g(x, z) as one JVP at the midpoint, checked by autograd."""
    from ubo.synthetic import list_problems, make_problem

    g = torch.Generator().manual_seed(1)
    for name in list_problems():
        p = make_problem(name, dim_x=3, dim_y=3, **({"n": 64} if name == "quadratic" else {}))
        x, y, z = (torch.randn(4, 3, generator=g, dtype=torch.float64) for _ in range(3))

        def grad_x_g(point):
            xr = x.clone().requires_grad_(True)
            return torch.autograd.grad(p.g(xr, point).sum(), xr)[0]

        close(p.jvp_xy(x, 0.5 * (y + z), y - z), grad_x_g(y) - grad_x_g(z))


def test_slip_reference_run_solves_z_exactly_without_hvp_calls():
    """z_update='exact': z_t = [grad2_yy g]^-1 grad_y F at (x_t, y_t), used in h_t; no hvp call is made."""
    from ubo.synthetic import make_problem

    problem = make_problem("coupled", dim_x=3, dim_y=3)
    slip = algorithms.make("slip", eta=0.05, beta=0.5, gamma=0.1, nu=0.1, z_update="exact")
    oracle = problem.oracle(runs=2, seed=0)
    x0 = problem.batch(problem.x0, 2)
    y0 = torch.zeros(2, 3, dtype=torch.float64)
    new = slip.step(oracle, slip.init(oracle, x0, y0))
    gx, gy = problem.grad_f(x0, y0)
    z = torch.linalg.solve(problem.A, gy.T).T
    close(new.z, z)
    h = gx - problem.jvp_xy(x0, y0, z)
    m = 0.5 * h
    close(new.x, x0 - 0.05 * normalize(m))
    assert oracle.count_dict()["hvp"].tolist() == [0, 0]
    assert oracle.count_dict()["jvp"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="z_update"):
        algorithms.make("slip", z_update="solve")


def test_f2sa_first_order_penalty_gradient_noise_grows_with_lambda():
    """The paper's estimator: lam [grad_x G(x, y) - grad_x G(x, z)] from two first-order samples has noise
    ~ sqrt(2) lam sigma; the midpoint-JVP form's noise stays flat in lam (measured 1.21 for lam = 1..1000)."""
    from ubo.synthetic import make_problem

    problem = make_problem("coupled", dim_x=3, dim_y=2, noise="bounded", sigma_f=0.0, sigma_g1=0.5, sigma_g2=0.5)
    runs = 2000
    x = problem.batch(problem.x0 + 0.1, runs)
    ystar = problem.y_star(x)
    spread = {}
    for form in ("first_order", "jvp"):
        for lam in (1.0, 100.0):
            y = ystar + 0.1 / lam  # y_lam - y* ~ 1 / lam
            a = algorithms.F2SA(alpha=1.0, gamma=0.1, lam0=lam, lam_step=0.0, penalty_gradient=form)
            new = a.step(problem.oracle(runs=runs, seed=1), State(x=x, y=y, aux={"lower": ystar}))
            spread[form, lam] = float((new.x - x).std(0).norm())
    assert spread["first_order", 100.0] > 50 * spread["first_order", 1.0]
    assert spread["jvp", 100.0] < 2 * spread["jvp", 1.0]


def test_f2sa_first_order_step_matches_the_formula():
    from ubo.synthetic import make_problem

    p = make_problem("curvature", dim_x=3, dim_y=3)
    g = torch.Generator().manual_seed(2)
    x, y, z = (0.3 * torch.randn(2, 3, generator=g, dtype=torch.float64) for _ in range(3))
    a = algorithms.F2SA(alpha=0.1, gamma=0.2, lam0=3.0, lam_step=0.5)
    oracle = p.oracle(runs=2)
    twin = p.oracle(runs=2)
    new = a.step(oracle, State(x=x, y=y, aux={"lower": z}, t=2))
    gx, gy = twin.grad_f(x, y)
    gxy, gyy = twin.grad_g_xy(x, y)
    gxz, gyz = twin.grad_g_xy(x, z)
    lam = 4.0
    close(new.x, x - 0.1 * (gx + lam * (gxy - gxz)))
    close(new.y, y - 0.2 * (gy / lam + gyy))
    close(new.aux["lower"], z - 0.2 * gyz)


def test_grad_x_g_matches_autograd_and_jvp_on_every_family():
    """The default grad_x g (autograd on g) against finite differences of g."""
    from ubo.synthetic import list_problems, make_problem

    for name in list_problems():
        p = make_problem(name, dim_x=3, dim_y=3, **({"n": 64} if name == "quadratic" else {}))
        g = torch.Generator().manual_seed(3)
        x, y = (0.3 * torch.randn(2, 3, generator=g, dtype=torch.float64) for _ in range(2))
        h = 1e-6
        fd = torch.stack([(p.g(x + h * e, y) - p.g(x - h * e, y)) / (2 * h) for e in torch.eye(3, dtype=x.dtype)], 1)
        torch.testing.assert_close(p.grad_x_g(x, y), fd, rtol=1e-6, atol=1e-7)
