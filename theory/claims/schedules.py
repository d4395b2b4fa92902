"""The papers' parameter ORDERS with constants calibrated once for these claims (stated in the report).

theory.parameters turns each bound into an explicit constant; those absolute constants give steps so
small that no eps ladder fits in minutes. The claims keep the orders and scale each by one constant
(the C_* below: C_BETA = C_ETA = 1 are the orders with unit constants; C_GAMMA, C_L1, C_PERIOD, C_ALPHA
came from a one-seed pilot of SLIP at eps = 0.5 reaching eps in about 1300 steps; all frozen before
the claims ran, never tuned per claim or per outcome). claims.calibration re-runs the pilot over 16
seeds with C_ETA x 0.5, 1, 2 and every claim-1 report records it.

With sigma_h = sigma_f + (l_f0 / mu) sigma_g2 (hypergradient noise, theory.parameters) and (L0, L1)
Phi's certified pair, kappa = l_g1 / mu:

    1 - beta = min(1, C_BETA (eps / sigma_h)^2)                          Theta(eps^2)   [1 if no noise]
    eta      = min(C_ETA eps (1 - beta) / L0,  C_L1 (1 - beta) / L1)     Theta(eps^3)   [Theta(eps) if no noise]
    gamma    = min(1 / l_g1, C_GAMMA mu eps^2 / sigma_g1^2)              Theta(eps^2)
    nu       = min(1 / l_g1, C_GAMMA mu eps^2 / sigma_h^2)               Theta(eps^2)
    T0       = ceil(log(max(D0 / eps, 1)) / (mu gamma)),  D0 = ||y0 - y*(x0)||   warm start, Theta~(eps^-2)
    BO-REP:  I = max(1, floor(C_PERIOD eps / (kappa eta))), N = ceil(log 8 / (mu gamma)); Epoch-SGD from
             1/l_g1, halving down to gamma, total length T0                 I, N = Theta~(eps^-2)
    AdamBO:  beta = min(1/2, lam, C_BETA (eps / sigma_h)^2) (new-gradient weight), beta_sq = beta,
             eta = C_ETA eps beta / (L0 sqrt(d_x)) (lam fixed along a ladder: lam^1.5 is in the constant),
             Neumann C = l_g1, Q = ceil(kappa log(4 kappa l_f0 / eps))
    SOBA (bounded-smooth baseline, SGD on x): alpha = min(C_ALPHA / L0, C_ALPHA eps^2 / (L0 sigma_h^2))

Sources: BO-REP Theorem 1 (Hao, Gong, Liu, ICLR 2024); SLIP Theorem (Gong, Hao, Liu, ICML 2024, Sec. 4);
AdamBO (Gong, Hao, Liu, TMLR 2025, Sec. 4: beta = Theta~(eps^2), beta <= O(lam), eta <= O(lam^1.5 beta));
SOBA (Dagreou, Ablin, Vaiter, Moreau, NeurIPS 2022).
"""

from __future__ import annotations

import math
from dataclasses import fields

from ubo import algorithms
from ubo.theory.parameters import hypergradient_noise

C_BETA = 1.0
C_ETA = 1.0
C_L1 = 0.5
C_GAMMA = 4.0
C_PERIOD = 0.5
C_ALPHA = 0.5
ADAM_LAMBDA = 0.1
METHODS = ("borep", "slip", "adambo", "soba")


def _L0_L1(c) -> tuple[float, float]:
    return max(c.phi_L0, 1e-12), (c.phi_L1 or 0.0)


def _common(problem, eps: float) -> dict:
    c = problem.constants
    L0, L1 = _L0_L1(c)
    s_h = hypergradient_noise(c)
    omb = 1.0 if s_h == 0 else min(1.0, C_BETA * (eps / s_h) ** 2)
    gamma = 1.0 / c.l_g1 if c.sigma_g1 == 0 else min(1.0 / c.l_g1, C_GAMMA * c.mu * eps**2 / c.sigma_g1**2)
    nu = 1.0 / c.l_g1 if s_h == 0 else min(1.0 / c.l_g1, C_GAMMA * c.mu * eps**2 / s_h**2)
    eta = C_ETA * eps * omb / L0
    if L1 > 0:
        eta = min(eta, C_L1 * omb / L1)
    d0 = float((problem.y0 - problem.y_star(problem.x0[None])[0]).norm())
    warm = max(0, math.ceil(math.log(max(d0 / eps, 1.0)) / (c.mu * gamma)))
    return {"omb": omb, "eta": eta, "gamma": gamma, "nu": nu, "warm": warm, "s_h": s_h, "L0": L0}


def supported_params(cls, params: dict) -> dict:
    """Keep only the hyperparameters ``cls`` declares (options another version may not have)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in params.items() if k in names}


def method_params(name: str, problem, eps: float, lam: float = ADAM_LAMBDA) -> dict:
    """Hyperparameters of method ``name`` (one of METHODS) for target ``eps`` on ``problem``."""
    if name not in METHODS:
        raise ValueError(f"name must be one of {METHODS}, got {name!r}")
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a number > 0, got {eps!r}")
    c = problem.constants
    p = _common(problem, eps)
    z_radius = c.l_f0 / c.mu
    if name == "slip":
        return {"eta": p["eta"], "beta": 1.0 - p["omb"], "gamma": p["gamma"], "nu": p["nu"],
                "warm_start": p["warm"], "z_radius": z_radius}
    if name == "borep":
        epochs = max(1, math.ceil(math.log2(max((1.0 / c.l_g1) / p["gamma"], 1.0))) + 1)
        return {"eta": p["eta"], "beta": 1.0 - p["omb"], "gamma": p["gamma"], "nu": p["nu"], "z_radius": z_radius,
                "period": max(1, math.floor(C_PERIOD * eps / (c.kappa * p["eta"]))),
                "lower_steps": math.ceil(math.log(8.0) / (c.mu * p["gamma"])), "epoch_gamma": 1.0 / c.l_g1,
                "epochs": epochs, "first_epoch": max(1, math.ceil(p["warm"] / (2**epochs - 1)))}
    if name == "adambo":
        beta = min(0.5, lam, 1.0 if p["s_h"] == 0 else C_BETA * (eps / p["s_h"]) ** 2)
        q = max(1, math.ceil(c.kappa * math.log(max(4 * c.kappa * c.l_f0 / eps, 1.0))))
        return {"eta": C_ETA * eps * beta / (p["L0"] * math.sqrt(problem.dim_x)), "beta": beta, "beta_sq": beta,
                "lam": lam, "gamma": p["gamma"], "warm_start": p["warm"], "neumann_scale": c.l_g1,
                "neumann_terms": q, "adam": "corrected"}
    alpha = C_ALPHA / p["L0"] * (1.0 if p["s_h"] == 0 else min(1.0, eps**2 / p["s_h"] ** 2))
    return {"alpha": alpha, "gamma": p["gamma"], "nu": p["nu"]}


def make_method(name: str, problem, eps: float, **override):
    """The algorithm ``name`` with method_params(...) updated by ``override``."""
    params = {**method_params(name, problem, eps), **override}
    return algorithms.make(name, **supported_params(algorithms.get(name), params))
