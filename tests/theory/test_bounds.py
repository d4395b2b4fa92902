"""Bounds of theory.bounds against hand-written simulations (PEPit pattern: measured <= bound)."""

import math

import numpy as np
import pytest
import torch

from ubo.theory import bounds


def test_every_bound_states_kind_and_source():
    for fn in bounds.ALL_BOUNDS:
        assert fn.kind in (bounds.EVERY, bounds.EXPECTATION, bounds.PROBABILITY)
        assert fn.source and fn.__doc__


def _drifting_sgd(runs, steps, gamma, mu, L, sigma, drift, seed=0, bounded=True):
    """SGD on 1/2 (y - c_t)^T A (y - c_t) with the minimiser c_t moving by exactly ``drift`` per step."""
    gen = torch.Generator().manual_seed(seed)
    d = 4
    A = torch.diag(torch.linspace(mu, L, d))
    direction = torch.randn(runs, d, generator=gen)
    direction /= direction.norm(dim=1, keepdim=True)
    c = torch.zeros(runs, d)
    y = torch.full((runs, d), 2.0)
    errs = [(y - c).norm(dim=1)]
    for _ in range(steps):
        xi = torch.randn(runs, d, generator=gen)
        xi = sigma * xi / xi.norm(dim=1, keepdim=True) if bounded else sigma * xi / math.sqrt(d)
        y = y - gamma * ((y - c) @ A + xi)
        c = c + drift * direction
        errs.append((y - c).norm(dim=1))
    return torch.stack(errs).numpy()


def test_tracking_ceiling_holds_for_every_realisation():
    gamma, mu, L, sigma, drift = 0.2, 0.5, 4.0, 0.5, 0.01
    err = _drifting_sgd(500, 300, gamma, mu, L, sigma, drift)
    t = np.arange(err.shape[0])[:, None]
    ceiling = bounds.tracking_ceiling(t, err[0][None, :], gamma, mu, sigma, drift)
    assert np.all(err <= ceiling * (1 + 1e-12))


def test_tracking_mean_bound_holds_in_expectation():
    gamma, mu, L, sigma, drift = 0.2, 0.5, 4.0, 0.5, 0.01
    err = _drifting_sgd(2000, 300, gamma, mu, L, sigma, drift, bounded=False)
    mean_sq = (err**2).mean(axis=1)
    bound = bounds.tracking_mean_bound(np.arange(err.shape[0]), float(mean_sq[0]), gamma, mu, sigma, drift)
    assert np.all(mean_sq <= bound)
    assert mean_sq[-1] / bound[-1] > 0.01  # not vacuous by orders of magnitude


def test_tracking_ceiling_catches_understated_noise():
    """Planted bug: the noise is 10x the sigma the bound is told about."""
    gamma, mu, L, sigma, drift = 0.2, 0.5, 4.0, 0.5, 0.0
    err = _drifting_sgd(200, 300, gamma, mu, L, 10 * sigma, drift)
    t = np.arange(err.shape[0])[:, None]
    assert np.any(err > bounds.tracking_ceiling(t, err[0][None, :], gamma, mu, sigma, drift))


def test_periodic_bound_matches_its_recursion_and_holds():
    """BO-REP's schedule by hand: refresh N SGD steps every I iterations, then drift."""
    gamma, mu, L, sigma, drift, inner, period, steps = 0.2, 0.5, 4.0, 0.3, 0.02, 5, 7, 60
    gen = torch.Generator().manual_seed(1)
    runs, d = 300, 3
    A = torch.diag(torch.linspace(mu, L, d))
    u = torch.randn(runs, d, generator=gen)
    u /= u.norm(dim=1, keepdim=True)
    c, y = torch.zeros(runs, d), torch.ones(runs, d)
    errs = [(y - c).norm(dim=1)]
    for k in range(steps):
        if k % period == 0 and k > 0:
            for _ in range(inner):
                xi = torch.randn(runs, d, generator=gen)
                y = y - gamma * ((y - c) @ A + sigma * xi / xi.norm(dim=1, keepdim=True))
        c = c + drift * u
        errs.append((y - c).norm(dim=1))
    err = torch.stack(errs).numpy()
    sure = bounds.periodic_tracking_bound(steps, float(err[0].max()), gamma, mu, sigma, inner, period, drift, True)
    rms = bounds.periodic_tracking_bound(steps, float(np.sqrt((err[0] ** 2).mean())), gamma, mu, sigma, inner,
                                         period, drift)
    assert np.all(err.max(axis=1) <= sure * (1 + 1e-12))
    assert np.all(np.sqrt((err**2).mean(axis=1)) <= rms)
    # the sawtooth: the bound drops right after each refresh
    assert sure[period + 1] < sure[period]


def test_z_contraction_and_neumann_bounds_on_random_spd():
    gen = torch.Generator().manual_seed(2)
    d, mu, L = 6, 0.3, 3.0
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen))
    A = q @ torch.diag(torch.linspace(mu, L, d)) @ q.T
    b = torch.randn(d, generator=gen)
    zstar = torch.linalg.solve(A, b)
    z, nu = torch.zeros(d), 1.0 / L
    e0 = float((z - zstar).norm())
    for k in range(1, 50):
        z = z - nu * (A @ z - b)
        assert float((z - zstar).norm()) <= bounds.z_contraction_bound(k, e0, nu, mu) * (1 + 1e-12)
    for Q in (1, 5, 30):
        S = sum(torch.linalg.matrix_power(torch.eye(d) - A / L, q) for q in range(Q)) / L
        jac = torch.randn(4, d, generator=gen)
        bias = float((jac @ (zstar - S @ b)).norm())
        assert bias <= bounds.neumann_bias_bound(mu, L, Q, float(torch.linalg.matrix_norm(jac, 2)), float(b.norm()))


def test_momentum_error_bound_is_its_recursion():
    beta, eta, L0, L1 = 0.8, 0.01, 2.0, 1.0
    G = np.array([3.0, 2.0, 1.0, 0.5])
    out = bounds.momentum_error_bound(beta, 1.5, 0.0, eta, L0, L1, G, 0.0)
    by_hand = [1.5, beta * 1.5 + (math.e - 1) * eta * beta * (L0 + L1 * 3.0)]
    assert out[:2] == pytest.approx(by_hand)


def test_momentum_error_bound_holds_in_simulation_and_catches_understated_noise():
    """Mean over runs of ||m_t - grad Phi(x_t)|| against the mean per-run bound, at every t (NSGD-M on cosh)."""
    beta, eta, sigma, T = 0.9, 0.005, 1.0, 900
    xs, ms = _nsgdm_cosh(256, T, eta, beta, sigma)
    grad = torch.sinh(xs[:-1])
    eps = (ms - grad).norm(dim=-1).numpy()  # eps_t: m_t was formed at x_t
    G = grad.norm(dim=-1).numpy()

    def mean_bound(s):
        return np.mean([bounds.momentum_error_bound(beta, eps[0, r], s, eta, 1.0, 1.0, G[:, r], 0.0)
                        for r in range(eps.shape[1])], axis=0)

    ratio = eps.mean(axis=1)[1:] / mean_bound(sigma)[1:]
    assert ratio.max() <= 1.0 and ratio[-100:].max() > 0.4  # holds, and is not vacuous late in the run
    assert (eps.mean(axis=1)[1:] / mean_bound(sigma / 10)[1:]).max() > 1.0  # sigma understated 10x is caught


def _nsgdm_cosh(runs, steps, eta, beta, sigma, seed=0, sign=1.0):
    """NSGD-M on Phi(x) = sum cosh(x_i) (L0, L1) = (1, 1), with bounded gradient noise."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((runs, 3), 2.0)
    m = torch.zeros_like(x)
    xs, ms = [x], []
    for _ in range(steps):
        xi = torch.randn(runs, 3, generator=gen)
        g = torch.sinh(x) + sigma * xi / xi.norm(dim=1, keepdim=True)
        m = beta * m + (1 - beta) * g
        x = x - sign * eta * m / m.norm(dim=1, keepdim=True)
        xs.append(x)
        ms.append(m)
    return torch.stack(xs), torch.stack(ms)


def _descent_lhs(xs, ms, eta):
    phi = torch.cosh(xs).sum(-1)
    grad = torch.sinh(xs[:-1])
    return phi[1:] - phi[:-1] + eta / 6 * grad.norm(dim=-1) - 8 * eta / 3 * (ms - grad).norm(dim=-1)


def test_descent_inequality_every_step_and_planted_ascent_is_caught():
    eta = 0.1
    assert bounds.descent_applies(eta, 1.0)
    xs, ms = _nsgdm_cosh(64, 200, eta, 0.9, 1.0)
    assert float(_descent_lhs(xs, ms, eta).max()) <= bounds.descent_bound(eta, 1.0)
    xs, ms = _nsgdm_cosh(64, 20, eta, 0.9, 1.0, sign=-1.0)  # bug: steps uphill
    assert float(_descent_lhs(xs, ms, eta).max()) > bounds.descent_bound(eta, 1.0)


def test_stationarity_bound_holds_in_mean_and_rejects_large_steps():
    """Long enough (T = 8000, small noise) that the bound is below ||grad Phi(x0)||: not moving would fail it."""
    beta, sigma, T = 0.5, 0.01, 8000
    eta = (1 - beta) / (32 * (math.e - 1))
    xs, ms = _nsgdm_cosh(32, T, eta, beta, sigma)
    G = torch.sinh(xs[:-1]).norm(dim=-1)
    eps0 = float((ms[0] - torch.sinh(xs[0])).norm(dim=-1).mean())
    delta = float(torch.cosh(xs[0, 0]).sum()) - 3.0
    measured = float(G.mean(dim=0).mean())
    bound = bounds.stationarity_bound(1.0, 1.0, delta, eta, beta, T, sigma, eps0)
    assert measured <= bound < float(G[0].mean())
    with pytest.raises(ValueError, match="eta must be"):
        bounds.stationarity_bound(1.0, 1.0, delta, 10 * eta, beta, T, sigma, eps0)


def test_bad_step_sizes_are_rejected():
    with pytest.raises(ValueError, match="gamma"):
        bounds.tracking_mean_bound(1, 1.0, 3.0, 0.5, 0.1, 0.0)
    with pytest.raises(ValueError, match="C must be"):
        bounds.neumann_bias_bound(1.0, 0.5, 3, 1.0, 1.0)
