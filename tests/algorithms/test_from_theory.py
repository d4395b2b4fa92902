"""from_theory: the papers' parameter choices satisfy the conditions stated in theory/parameters.py."""

from __future__ import annotations

import math

import pytest

from ubo import algorithms
from ubo.synthetic import make_problem
from ubo.theory import parameters as tp
from ubo.theory.phi_smoothness import certified_phi_constants
from ubo.algorithms.upper import adam_step_bound

PROBLEMS = [make_problem("coupled", noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.2),
            make_problem("decoupled", noise="none", L1=3.0),
            make_problem("coupled", noise="gaussian", sigma_f=2.0, sigma_g1=1.0, sigma_g2=1.0, mu=0.1)]


@pytest.mark.parametrize("problem", PROBLEMS, ids=["coupled-bounded", "decoupled-exact", "coupled-illcond"])
@pytest.mark.parametrize("eps", [0.5, 0.1])
def test_normalized_momentum_choices(problem, eps):
    c = problem.constants
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = tp.accuracy_targets(c, eps)
    for algo in (algorithms.SLIP.from_theory(c, eps, 0.1), algorithms.BOREP.from_theory(c, eps, 0.1)):
        omb = 1 - algo.beta
        assert 0 < omb <= 1 and (c.sigma_f == 0 or omb <= (eps / tp.hypergradient_noise(c)) ** 2 + 1e-15)
        assert algo.eta <= omb / (32 * (math.e - 1) * L1) + 1e-18            # the L1 condition
        assert algo.eta <= eps * omb / (64 * L0) + 1e-18
        assert algo.gamma <= 1 / c.l_g1 and algo.nu <= 1 / c.l_g1
        assert c.kappa * algo.eta / (c.mu * algo.gamma) <= eps_y / 4 * (1 + 1e-12)  # drift term
        assert algo.z_radius == pytest.approx(c.l_f0 / c.mu)
    borep = algorithms.BOREP.from_theory(c, eps, 0.1)
    assert c.kappa * borep.period * borep.eta <= eps_y / 4 * (1 + 1e-12)
    assert (1 - c.mu * borep.gamma) ** borep.lower_steps <= 1 / 8
    assert borep.epoch_gamma * 0.5 ** (borep.epochs - 1) <= borep.gamma * (1 + 1e-12)


def test_orders_in_eps():
    """eta = Theta(eps^3) and 1 - beta = Theta(eps^2) once eps is below the noise level."""
    c = PROBLEMS[0].constants
    a, b = algorithms.SLIP.from_theory(c, 0.02), algorithms.SLIP.from_theory(c, 0.01)
    assert (1 - a.beta) / (1 - b.beta) == pytest.approx(4.0)
    assert 4.0 <= a.eta / b.eta <= 8.0 * (1 + 1e-9)  # eps^2 (noise) to eps^3 (noise and lower level)


@pytest.mark.parametrize("problem", PROBLEMS, ids=["coupled-bounded", "decoupled-exact", "coupled-illcond"])
def test_adambo_choices(problem):
    c, eps, lam = problem.constants, 0.2, 0.05
    a = algorithms.AdamBO.from_theory(c, eps, 0.1, lam=lam, dim_x=problem.dim_x)
    assert a.beta <= lam and a.beta_sq == a.beta
    assert a.eta <= lam**1.5 * a.beta * (1 + 1e-12)
    assert a.neumann_scale == c.l_g1
    assert c.l_g1 * (1 - 1 / c.kappa) ** a.neumann_terms * c.l_f0 / c.mu <= eps / 4 * (1 + 1e-12)
    eps_y, _ = tp.accuracy_targets(c, eps)
    per_step = adam_step_bound(a.eta, a.beta, a.beta_sq) * math.sqrt(problem.dim_x)
    assert c.kappa * per_step / (c.mu * a.gamma) <= eps_y / 4 * (1 + 1e-9)


@pytest.mark.parametrize("bad", [dict(eps=0.0), dict(eps=-1.0), dict(delta=1.0), dict(delta=0.0)])
def test_from_theory_validates(bad):
    args = {"eps": 0.1, "delta": 0.1, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        algorithms.SLIP.from_theory(PROBLEMS[0].constants, **args)


@pytest.mark.parametrize("name", ["soba", "ma_soba", "stocbio", "ttsa", "accbo"])
def test_baseline_choices(name):
    c, eps = PROBLEMS[0].constants, 0.1
    L0, L1 = certified_phi_constants(c)
    algo = algorithms.get(name).from_theory(c, eps)
    h = algo.hyper()
    assert h["gamma"] <= 1 / c.l_g1 * (1 + 1e-12)
    if "alpha" in h:
        assert h["alpha"] <= 1 / (4 * L0) * (1 + 1e-12)
    if "neumann_scale" in h:
        assert h["neumann_scale"] == c.l_g1 and h["neumann_terms"] == tp.neumann_terms(c, eps)
    if name == "accbo":
        assert algo.eta <= (1 - algo.beta) / (32 * (math.e - 1) * L1) and 0 < algo.theta < 1
    if name == "ttsa":
        assert algorithms.TTSA.from_theory(c, eps, steps=10**5).alpha == pytest.approx(min(1 / (4 * L0), 1e-3))


def test_f2sa_says_it_has_no_theory_choice():
    with pytest.raises(NotImplementedError, match="F2SA"):
        algorithms.F2SA.from_theory(PROBLEMS[0].constants, 0.1)
