"""from_theory: the papers' parameter choices satisfy the conditions stated in theory/parameters.py."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from ubo import algorithms
from ubo.synthetic import make_problem
from ubo.theory import parameters as tp
from ubo.theory.phi_smoothness import certified_phi_constants
from ubo.algorithms.upper import adam_step_bound

def quiet(cls, *args, **kwargs):
    """from_theory without its budget warning (the theory's horizons are far beyond a test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cls.from_theory(*args, **kwargs)


PROBLEMS = [make_problem("coupled", noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.2),
            make_problem("decoupled", noise="none", L1=3.0),
            make_problem("coupled", noise="gaussian", sigma_f=2.0, sigma_g1=1.0, sigma_g2=1.0, mu=0.1)]


@pytest.mark.parametrize("problem", PROBLEMS, ids=["coupled-bounded", "decoupled-exact", "coupled-illcond"])
@pytest.mark.parametrize("eps", [0.5, 0.1])
def test_normalized_momentum_choices(problem, eps):
    c = problem.constants
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = tp.accuracy_targets(c, eps)
    for algo in (quiet(algorithms.SLIP, c, eps, 0.1), quiet(algorithms.BOREP, c, eps, 0.1)):
        omb = 1 - algo.beta
        assert 0 < omb <= 1 and (c.sigma_f == 0 or omb <= (eps / tp.hypergradient_noise(c)) ** 2 + 1e-15)
        assert algo.eta <= omb / (32 * (math.e - 1) * L1) + 1e-18            # the L1 condition
        assert algo.eta <= eps * omb / (64 * L0) + 1e-18
        assert algo.gamma <= 1 / c.l_g1 and algo.nu <= 1 / c.l_g1
        assert algo.z_radius == pytest.approx(c.l_f0 / c.mu)
    slip = quiet(algorithms.SLIP, c, eps, 0.1)
    assert c.kappa * slip.eta / (c.mu * slip.gamma) <= eps_y / 4 * (1 + 1e-12)  # SLIP's drift term
    borep = quiet(algorithms.BOREP, c, eps, 0.1)
    assert c.kappa * borep.period * borep.eta <= eps_y / 4 * (1 + 1e-12)
    assert math.exp(borep.lower_steps * math.log1p(-c.mu * borep.gamma)) <= 1 / 8 * (1 + 1e-9)
    assert borep.epoch_gamma * 0.5 ** (borep.epochs - 1) <= borep.gamma * (1 + 1e-12)


def test_orders_in_eps():
    """eta = Theta(eps^3) and 1 - beta = Theta(eps^2) once eps is below the noise level."""
    c = PROBLEMS[0].constants
    a, b = quiet(algorithms.SLIP, c, 0.02), quiet(algorithms.SLIP, c, 0.01)
    assert (1 - a.beta) / (1 - b.beta) == pytest.approx(4.0)
    # eps^2 (noise) to eps^3 (noise and lower level), times the ratio of the log(e T / delta) factors
    la, lb = tp.plan("slip", c, 0.02)["log_factor"], tp.plan("slip", c, 0.01)["log_factor"]
    assert 4.0 <= a.eta / b.eta <= 8.0 * lb / la * (1 + 1e-6)


@pytest.mark.parametrize("problem", PROBLEMS, ids=["coupled-bounded", "decoupled-exact", "coupled-illcond"])
def test_adambo_choices(problem):
    c, eps, lam = problem.constants, 0.2, 0.05
    a = quiet(algorithms.AdamBO, problem, eps, 0.1, lam=lam)  # dim_x from the problem
    assert a.beta <= lam and a.beta_sq == a.beta
    assert a.eta <= lam**1.5 * a.beta * (1 + 1e-12)
    assert a.neumann_scale == c.l_g1
    assert c.l_g1 * (1 - 1 / c.kappa) ** a.neumann_terms * c.l_f0 / c.mu <= eps / 4 * (1 + 1e-12)
    eps_y, _ = tp.accuracy_targets(c, eps)
    per_step = adam_step_bound(a.eta, a.beta, a.beta_sq, bias_correction=True) * math.sqrt(problem.dim_x)
    assert c.kappa * per_step / (c.mu * a.gamma) <= eps_y / 4 * (1 + 1e-9)


@pytest.mark.parametrize("bad", [dict(eps=0.0), dict(eps=-1.0), dict(delta=1.0), dict(delta=0.0)])
def test_from_theory_validates(bad):
    args = {"eps": 0.1, "delta": 0.1, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        quiet(algorithms.SLIP, PROBLEMS[0].constants, **args)


@pytest.mark.parametrize("name", ["soba", "ma_soba", "stocbio", "ttsa", "accbo"])
def test_baseline_choices(name):
    c, eps = PROBLEMS[0].constants, 0.1
    L0, L1 = certified_phi_constants(c)
    algo = quiet(algorithms.get(name), c, eps)
    h = algo.hyper()
    assert h["gamma"] <= 1 / c.l_g1 * (1 + 1e-12)
    if "alpha" in h:
        assert h["alpha"] <= 1 / (4 * L0) * (1 + 1e-12)
    if "neumann_scale" in h:
        assert h["neumann_scale"] == c.l_g1 and h["neumann_terms"] == tp.neumann_terms(c, eps)
    if name == "accbo":
        assert algo.eta <= (1 - algo.beta) / (32 * (math.e - 1) * L1) and 0 < algo.theta < 1
    if name == "ttsa":
        assert quiet(algorithms.TTSA, c, eps, steps=10**5).alpha == pytest.approx(min(1 / (4 * L0), 1e-3))


def test_f2sa_says_it_has_no_theory_choice():
    with pytest.raises(NotImplementedError, match="F2SA"):
        algorithms.F2SA.from_theory(PROBLEMS[0].constants, 0.1)


# ---- issue 9: constants of from_theory ------------------------------------------------------------------------
def _slope(name, key, source, e1=0.02, e2=0.01, **kw):
    a, b = tp.plan(name, source, e1, **kw)["hyper"][key], tp.plan(name, source, e2, **kw)["hyper"][key]
    return math.log(b / a) / math.log(e1 / e2)


def test_accbo_eta_is_theta_eps_squared():
    """STORM's order: eta = Theta(eps^2) (SGD's drift cap would make it eps^3)."""
    assert _slope("accbo", "eta", PROBLEMS[0]) == pytest.approx(-2.0, abs=0.1)
    assert _slope("slip", "eta", PROBLEMS[0]) == pytest.approx(-3.0, abs=0.15)


def test_adambo_takes_the_dimension_from_the_problem():
    problem = PROBLEMS[0]
    with pytest.raises(ValueError, match="dim_x"):
        tp.adambo(problem.constants, 0.5)
    a, b = tp.adambo(problem, 0.5, gap=1.0), tp.adambo(problem.constants, 0.5, dim_x=problem.dim_x)
    assert a == b
    eps_y, _ = tp.accuracy_targets(problem.constants, 0.5)
    step = adam_step_bound(a["eta"], a["beta"], a["beta_sq"], True) * math.sqrt(problem.dim_x)
    assert problem.constants.kappa * step / (problem.constants.mu * a["gamma"]) <= eps_y / 4 * (1 + 1e-9)


def test_borep_eta_is_not_capped_by_slips_drift_condition():
    """BO-REP's period bounds the drift: its eta is the L0 / L1 term, far above SLIP's drift-capped eta."""
    c, eps = PROBLEMS[0].constants, 0.01
    L0, L1 = certified_phi_constants(c)
    b, s = tp.borep(c, eps), tp.slip(c, eps)
    omb = 1 - b["beta"]
    assert b["eta"] == pytest.approx(min(eps * omb / (64 * L0), omb / (32 * (math.e - 1) * L1)))
    assert b["eta"] > 100 * s["eta"]
    assert c.kappa * b["period"] * b["eta"] <= tp.accuracy_targets(c, eps)[0] / 4 * (1 + 1e-12)


def test_borep_epoch_sgd_reaches_its_target_without_noise():
    """The refinement ends within eps_y of y*(x0) from distance D0 = 1 (one averaged epoch kept ~7e-2)."""
    problem = make_problem("coupled", noise="none")
    algo = quiet(algorithms.BOREP, problem, 1.0)
    assert algo.epochs >= 2 and math.isfinite(algo.epoch_radius)
    eps_y, _ = tp.accuracy_targets(problem.constants, 1.0)
    x0 = problem.batch(problem.x0, 2)
    ys = problem.y_star(x0)
    y0 = ys + torch.nn.functional.normalize(torch.ones_like(ys), dim=1)
    state = algo.init(problem.oracle(runs=2), x0, y0)
    assert float((state.y - ys).norm(dim=1).max()) <= eps_y


def test_log_factor_has_the_horizon_and_plan_returns_the_budget():
    c = PROBLEMS[0].constants
    p = tp.plan("slip", c, 0.5, 0.1)
    assert p["log_factor"] == pytest.approx(math.log(math.e * p["horizon"] / 0.1), rel=1e-2)
    eps_y, _ = tp.accuracy_targets(c, 0.5)
    assert p["hyper"]["gamma"] == pytest.approx(
        min(1 / c.l_g1, c.mu * eps_y**2 / (8 * c.sigma_g1**2 * p["log_factor"])), rel=1e-2)
    assert p["horizon"] == math.ceil(4 * p["gap"] / (p["hyper"]["eta"] * 0.5))
    assert p["budget"] == p["warm_calls"] + 4 * p["horizon"]
    with pytest.warns(UserWarning, match="oracle calls per run"):
        algorithms.SLIP.from_theory(c, 0.5)


def test_y_sensitivity_has_the_relaxed_smoothness_terms():
    from dataclasses import replace

    c = PROBLEMS[0].constants
    base = tp.y_sensitivity(replace(c, L_x1=0.0, L_y1=0.0))
    assert tp.y_sensitivity(replace(c, L_x1=2.0, L_y1=0.0), grad_bound=1.0) == pytest.approx(
        base + 2.0 * (1.0 + c.kappa * c.l_f0))
    assert tp.y_sensitivity(replace(c, L_x1=0.0, L_y1=3.0)) == pytest.approx(base + c.kappa * 3.0 * c.l_f0)


def test_neumann_scale_defaults_to_the_problems_l_g1_and_is_checked():
    problem = PROBLEMS[0]
    assert algorithms.StocBiO().resolved(problem).neumann_scale == problem.constants.l_g1
    bad = algorithms.StocBiO(neumann_scale=0.4 * problem.constants.l_g1)
    with pytest.warns(UserWarning, match="neumann_scale = .* is below l_g1 / 2"):
        algorithms.run(bad, problem, runs=1, steps=1)
