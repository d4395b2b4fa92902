"""The papers' parameter choices as plain functions of (constants, eps, delta).

The papers fix only orders (BO-REP, Hao, Gong, Liu, ICLR 2024, Theorem 1; SLIP, Gong, Hao, Liu, ICML 2024, main theorem; AdamBO, Gong, Hao, Liu, TMLR, main theorem; their constants are not stated). The explicit
constants below are the choices of this toolkit; each is picked so that one term of a stated
bound is at most a fixed fraction of eps, as written next to it.

Shared quantities (c = synthetic.constants.Constants):
    (L0, L1)     Phi's smoothness pair: the family's certificate, else the lemma (theory.phi_smoothness)
    sigma_h      hypergradient noise size  sigma_f + (l_f0 / mu) sigma_g2   (||z|| <= l_f0/mu)
    b_y          sensitivity of the estimator's mean to ||y - y*||:
                 L_x0 + kappa L_y0 + (1 + kappa) l_g2 l_f0 / mu   (the A1 assumption of BO-REP, inside its radius)
    eps_y        lower-level accuracy target  eps / (4 b_y);   eps_z = eps / (4 l_g1)

Normalized momentum (Cutkosky, Mehta, ICML 2020, adapted in docs/theory.md section 2; BO-REP / SLIP):
    1 - beta = min(1, (eps / sigma_h)^2)                              [noise term 16 sigma sqrt(1-beta) ~ eps]
    eta <= min(eps (1 - beta) / (64 L0),  (1 - beta) / (32 (e - 1) L1))  [L0 term <= eps/4; the L1 condition]
Lower level (docs/theory.md section 3: e_t <= (1-gamma mu)^t e_0 + 2 gamma sigma^2/mu + 2 Delta^2/(gamma mu)^2):
    gamma = min(1/l_g1, mu eps_y^2 / (8 sigma_g1^2 log(e/delta)))    [noise term <= (eps_y/2)^2 / log factor]
    eta  <= gamma mu eps_y / (4 kappa)                                 [drift term kappa eta/(gamma mu) <= eps_y/4]
    nu    = min(1/l_g1, mu eps_z^2 / (8 sigma_h^2 log(e/delta)))
    T0    = ceil(log(D0 / eps_y) / (mu gamma))                        [contracts an initial distance D0]
BO-REP period: I = max(1, floor(eps_y / (4 kappa eta))) so y* drifts <= eps_y/4 between refreshes;
    N = ceil(log(8) / (mu gamma)) steps contract the error by 8 each refresh.
AdamBO (Gong, Hao, Liu, TMLR, main theorem: beta <= O(lambda), eta <= O(lambda^1.5 beta)):
    beta = min(1/2, lam, (eps / sigma_h)^2), beta_sq = beta,
    eta = lam^1.5 beta min(eps / (64 L0), 1 / (32 (e - 1) L1)), also capped by the drift condition with
    the per-coordinate step bound (algorithms.upper.adam_step_bound) times sqrt(dim_x);
    Neumann C = l_g1, Q = ceil(kappa log(4 kappa l_f0 / eps)) so the truncation bias
    l_g1 (1 - 1/kappa)^Q l_f0 / mu <= eps / 4.
"""

from __future__ import annotations

import math

from ubo.synthetic.constants import Constants
from ubo.theory.phi_smoothness import certified_phi_constants


def _check(eps: float, delta: float) -> None:
    if not (isinstance(eps, (int, float)) and 0 < eps < math.inf):
        raise ValueError(f"eps must be a number in (0, inf), got {eps!r}")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise ValueError(f"delta must be a number in (0, 1), got {delta!r}")


def hypergradient_noise(c: Constants) -> float:
    """sigma_f + (l_f0 / mu) sigma_g2."""
    return c.sigma_f + c.l_f0 / c.mu * c.sigma_g2


def y_sensitivity(c: Constants) -> float:
    """b_y = L_x0 + kappa L_y0 + (1 + kappa) l_g2 l_f0 / mu (at least 1e-12)."""
    return max(c.L_x0 + c.kappa * c.L_y0 + (1 + c.kappa) * c.l_g2 * c.l_f0 / c.mu, 1e-12)


def accuracy_targets(c: Constants, eps: float) -> tuple[float, float]:
    """(eps_y, eps_z) = (eps / (4 b_y), eps / (4 l_g1))."""
    return eps / (4 * y_sensitivity(c)), eps / (4 * c.l_g1)


def momentum_one_minus_beta(c: Constants, eps: float) -> float:
    """1 - beta = min(1, (eps / sigma_h)^2)."""
    s = hypergradient_noise(c)
    return 1.0 if s == 0 else min(1.0, (eps / s) ** 2)


def sgd_step(l_g1: float, mu: float, target: float, sigma: float, delta: float) -> float:
    """min(1/l_g1, mu target^2 / (8 sigma^2 log(e/delta)))."""
    if sigma == 0:
        return 1.0 / l_g1
    return min(1.0 / l_g1, mu * target**2 / (8 * sigma**2 * math.log(math.e / delta)))


def normalized_eta(c: Constants, eps: float, one_minus_beta: float, gamma: float, step_per_eta: float = 1.0) -> float:
    """Largest eta meeting the L0 term, the L1 condition and the drift condition (see module doc)."""
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = accuracy_targets(c, eps)
    bounds = [eps * one_minus_beta / (64 * max(L0, 1e-12)),
              gamma * c.mu * eps_y / (4 * c.kappa * step_per_eta)]
    if L1 > 0:
        bounds.append(one_minus_beta / (32 * (math.e - 1) * L1))
    return min(bounds)


def warm_start_steps(c: Constants, eps: float, gamma: float, distance0: float = 1.0) -> int:
    """T0 = ceil(log(D0 / eps_y) / (mu gamma)), at least 0."""
    eps_y, _ = accuracy_targets(c, eps)
    return max(0, math.ceil(math.log(max(distance0 / eps_y, 1.0)) / (c.mu * gamma)))


def slip(c: Constants, eps: float, delta: float = 0.1, distance0: float = 1.0) -> dict:
    """SLIP (Gong, Hao, Liu, ICML 2024, main theorem): eta, beta, gamma, nu, T0, z radius l_f0/mu."""
    _check(eps, delta)
    eps_y, eps_z = accuracy_targets(c, eps)
    omb = momentum_one_minus_beta(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, delta)
    nu = sgd_step(c.l_g1, c.mu, eps_z, hypergradient_noise(c), delta)
    return {"eta": normalized_eta(c, eps, omb, gamma), "beta": 1.0 - omb, "gamma": gamma, "nu": nu,
            "warm_start": warm_start_steps(c, eps, gamma, distance0), "z_radius": c.l_f0 / c.mu}


def borep(c: Constants, eps: float, delta: float = 0.1, distance0: float = 1.0) -> dict:
    """BO-REP (Hao, Gong, Liu, ICLR 2024, Theorem 1): SLIP's steps plus period I, refresh length N and Epoch-SGD.

    Epoch-SGD starts at gamma_1 = 1/l_g1 and halves the step each epoch until it reaches gamma;
    its total length n_1 (2^E - 1) matches SLIP's warm start T0.
    """
    p = slip(c, eps, delta, distance0)
    eps_y, _ = accuracy_targets(c, eps)
    warm = p.pop("warm_start")
    epochs = max(1, math.ceil(math.log2(max((1.0 / c.l_g1) / p["gamma"], 1.0))) + 1)
    return {**p, "period": max(1, math.floor(eps_y / (4 * c.kappa * p["eta"]))),
            "lower_steps": math.ceil(math.log(8.0) / (c.mu * p["gamma"])), "epoch_gamma": 1.0 / c.l_g1,
            "epochs": epochs, "first_epoch": max(1, math.ceil(warm / (2**epochs - 1)))}


def neumann_terms(c: Constants, eps: float) -> int:
    """Q = ceil(kappa log(4 kappa l_f0 / eps)), at least 1."""
    return max(1, math.ceil(c.kappa * math.log(max(4 * c.kappa * c.l_f0 / eps, 1.0))))


def adambo(c: Constants, eps: float, delta: float = 0.1, lam: float = 0.1, dim_x: int = 1,
           distance0: float = 1.0) -> dict:
    """AdamBO (Gong, Hao, Liu, TMLR, main theorem): beta, beta_sq, eta, lam, gamma, T0, Neumann (C, Q)."""
    from ubo.algorithms.upper import adam_step_bound

    _check(eps, delta)
    if not (isinstance(lam, (int, float)) and lam > 0):
        raise ValueError(f"lam must be a number in (0, inf), got {lam!r}")
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = accuracy_targets(c, eps)
    s = hypergradient_noise(c)
    beta = min(0.5, lam, 1.0 if s == 0 else (eps / s) ** 2)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, delta)
    eta = lam**1.5 * beta * min(eps / (64 * max(L0, 1e-12)), math.inf if L1 == 0 else 1 / (32 * (math.e - 1) * L1))
    per_eta = adam_step_bound(1.0, beta, beta) * math.sqrt(dim_x)  # ||x' - x|| <= eta * per_eta
    eta = min(eta, gamma * c.mu * eps_y / (4 * c.kappa * per_eta))
    return {"eta": eta, "beta": beta, "beta_sq": beta, "lam": lam, "gamma": gamma,
            "warm_start": warm_start_steps(c, eps, gamma, distance0), "neumann_scale": c.l_g1,
            "neumann_terms": neumann_terms(c, eps)}


# ---- baselines (bounded-smoothness analyses: they use Phi's L0 as a plain smoothness constant) -------------
def sgd_upper_step(c: Constants, eps: float) -> float:
    """alpha = min(1 / (4 L0), eps^2 / (8 L0 sigma_h^2)): the SGD step for E||grad Phi||^2 <= eps^2 (L1 ignored)."""
    L0, _ = certified_phi_constants(c)
    s = hypergradient_noise(c)
    return min(1 / (4 * L0), math.inf if s == 0 else eps**2 / (8 * L0 * s**2))


def soba(c: Constants, eps: float, delta: float = 0.1) -> dict:
    """SOBA: SGD step alpha on x, SLIP's lower-level and z steps."""
    _check(eps, delta)
    eps_y, eps_z = accuracy_targets(c, eps)
    return {"alpha": sgd_upper_step(c, eps), "gamma": sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, delta),
            "nu": sgd_step(c.l_g1, c.mu, eps_z, hypergradient_noise(c), delta)}


def ma_soba(c: Constants, eps: float, delta: float = 0.1) -> dict:
    """MA-SOBA: SOBA's steps, the moving average 1 - beta = min(1, (eps / sigma_h)^2), z projected on l_f0/mu."""
    return {**soba(c, eps, delta), "beta": 1.0 - momentum_one_minus_beta(c, eps), "z_radius": c.l_f0 / c.mu}


def stocbio(c: Constants, eps: float, delta: float = 0.1) -> dict:
    """StocBiO: alpha as SGD, D = ceil(log(8) / (mu gamma)) warm-started inner steps, Neumann (l_g1, Q)."""
    _check(eps, delta)
    eps_y, _ = accuracy_targets(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, delta)
    return {"alpha": sgd_upper_step(c, eps), "gamma": gamma,
            "lower_steps": math.ceil(math.log(8.0) / (c.mu * gamma)), "neumann_scale": c.l_g1,
            "neumann_terms": neumann_terms(c, eps)}


def ttsa(c: Constants, eps: float, delta: float = 0.1, steps: int | None = None) -> dict:
    """TTSA for horizon K (default ceil(eps^-5), its O(K^-2/5) rate for E||grad Phi||^2 <= eps^2):
    alpha = min(1/(4 L0), K^-3/5), gamma = min(1/l_g1, K^-2/5), Neumann (l_g1, Q)."""
    _check(eps, delta)
    L0, _ = certified_phi_constants(c)
    K = math.ceil(eps**-5) if steps is None else steps
    return {"alpha": min(1 / (4 * L0), K ** -0.6), "gamma": min(1 / c.l_g1, K ** -0.4),
            "neumann_scale": c.l_g1, "neumann_terms": neumann_terms(c, eps)}


def accbo(c: Constants, eps: float, delta: float = 0.1, distance0: float = 1.0) -> dict:
    """AccBO (Gong, Hao, Liu, NeurIPS 2024; the paper's constants are not stated, toolkit choices):
    recursive-momentum error ~ sqrt(1-beta) sigma_h + eta L0 / sqrt(1-beta), so 1 - beta = min(1, (eps/sigma_h)^2)
    and eta = min(eps sqrt(1-beta) / (64 L0), the L1 condition, the drift condition) = Theta(eps^2);
    lower level: SLIP's gamma and T0, the strongly convex Nesterov momentum theta = (1 - sqrt(mu gamma)) /
    (1 + sqrt(mu gamma)), averaging tau = 1/2 (the released code's value); Neumann (l_g1, Q)."""
    _check(eps, delta)
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = accuracy_targets(c, eps)
    omb = momentum_one_minus_beta(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, delta)
    bounds = [eps * math.sqrt(omb) / (64 * max(L0, 1e-12)), gamma * c.mu * eps_y / (4 * c.kappa)]
    if L1 > 0:
        bounds.append(omb / (32 * (math.e - 1) * L1))
    root = math.sqrt(c.mu * gamma)
    return {"eta": min(bounds), "beta": 1.0 - omb, "gamma": gamma, "theta": (1 - root) / (1 + root), "tau": 0.5,
            "warm_start": warm_start_steps(c, eps, gamma, distance0), "neumann_scale": c.l_g1,
            "neumann_terms": neumann_terms(c, eps)}
