"""The papers' parameter choices as plain functions of (constants, eps, delta), with the horizon and budget.

The papers fix only orders: BO-REP (Hao, Gong, Liu, ICLR 2024) 1 - beta = Theta(eps^2), eta = Theta(eps^3),
I = Theta(eps^-2) [confirmed from the reviews]; SLIP (Gong, Hao, Liu, ICML 2024) the same with one lower
step per iteration; AdamBO (Gong, Hao, Liu, TMLR 2026) beta = Theta~(eps^2), beta <= O(lam),
eta <= O(lam^1.5 beta) [confirmed from the reviews]; AccBO (Gong, Hao, Liu, NeurIPS 2024) STORM's orders.
Their constants could not be read; the explicit constants below are this toolkit's choices
(reconstructions), each picked so that one term of a stated bound is at most a fixed fraction of eps.

Every function takes a problem (its constants and dim_x are used) or a bare ``Constants``.

Shared quantities (c = synthetic.constants.Constants, G = ``grad_bound`` >= sup_t ||grad Phi(x_t)||):
    (L0, L1)     Phi's smoothness pair: the family's certificate, else the lemma (theory.phi_smoothness)
    sigma_h      hypergradient noise size  sigma_f + (l_f0 / mu) sigma_g2   (||z|| <= l_f0/mu)
    b_y          sensitivity of the estimator's mean to ||y - y*|| inside the (L0, L1) radius (A1, A2):
                 L_x0 + L_x1 (G + kappa l_f0) + kappa (L_y0 + L_y1 l_f0) + (1 + kappa) l_g2 l_f0 / mu
                 (||grad_x f(x, y*)|| <= ||grad Phi|| + kappa l_f0; z* picks up kappa L_y1 l_f0 through grad_y f)
    eps_y        lower-level accuracy target  eps / (4 b_y);   eps_z = eps / (4 l_g1)
    log factor   log(e T / delta): the lower-level bounds hold uniformly over the horizon T (union bound);
                 T depends on eta, eta on gamma, gamma on the log factor: solved by fixed-point iteration
Normalized momentum (BO-REP, SLIP; the descent lemma of normalized momentum under (L0, L1)-smoothness):
    1 - beta = min(1, (eps / sigma_h)^2)                              [noise term 16 sigma sqrt(1-beta) ~ eps]
    eta <= min(eps (1 - beta) / (64 L0),  (1 - beta) / (32 (e - 1) L1))  [L0 term <= eps/4; the L1 condition]
    T = ceil(4 Delta / (eta eps))                                       [Delta / (eta T) <= eps / 4]
Lower level (SGD on a mu-strongly convex target drifting by Delta per step:
    e_t <= (1-gamma mu)^t e_0 + 2 gamma sigma^2/mu + 2 Delta^2/(gamma mu)^2):
    gamma = min(1/l_g1, mu eps_y^2 / (8 sigma_g1^2 log(e T/delta)))    [noise term <= (eps_y/2)^2 / log factor]
    SLIP:   eta <= gamma mu eps_y / (4 kappa)                          [drift term kappa eta/(gamma mu) <= eps_y/4]
    nu    = min(1/l_g1, mu eps_z^2 / (8 sigma_h^2 log(e T/delta)))
    T0    = ceil(log(D0 / eps_y) / (mu gamma))                        [contracts an initial distance D0]
BO-REP: no drift cap from SGD tracking (the period bounds the drift): I = max(1, floor(eps_y / (4 kappa eta)))
    so y* drifts <= eps_y/4 between refreshes (eta <= eps_y / (4 kappa) keeps I >= 1); N = ceil(log(8) /
    (mu gamma)) steps contract the error by 8 each refresh. Epoch-SGD (Hazan and Kale, JMLR 2014): the step
    gamma_1 = 1/l_g1 halves each epoch while the length doubles, first epoch n_1 >= 4 / (mu gamma_1) so that
    each averaged epoch divides the deterministic error by n_k gamma_k mu >= 4 (the average of a
    (1 - mu gamma)-contraction over n steps is <= e / (n mu gamma)), E = max(epochs to reach gamma,
    ceil(log_4(D0 / eps_y)) + 1),
    ball radius r_1 = D0 around the start (shrinking by 2^-1/2 per epoch, so it keeps y*).
AdamBO (beta <= O(lam), eta <= O(lam^1.5 beta)):
    beta = min(1/2, lam, (eps / sigma_h)^2), beta_sq = beta,
    eta = lam^1.5 beta min(eps / (64 L0), 1 / (32 (e - 1) L1)), also capped by the drift condition with
    the per-coordinate step bound of bias-corrected Adam (algorithms.upper.adam_step_bound) times
    sqrt(dim_x) (dim_x from the problem; required with bare constants);
    T = ceil(4 Delta (lam + G + sigma_h) / (eta eps)) (each step moves at least eta / (lam + |h_i|) along h);
    Neumann C = l_g1, Q = ceil(kappa log(4 kappa l_f0 / eps)) so the truncation bias
    l_g1 (1 - 1/kappa)^Q l_f0 / mu <= eps / 4.
AccBO (STORM): momentum error ~ sqrt(1-beta) sigma_h + eta L0 / sqrt(1-beta), so 1 - beta = min(1, (eps/sigma_h)^2)
    and eta = min(eps sqrt(1-beta) / (64 L0), the L1 condition, the accelerated drift condition) = Theta(eps^2):
    Nesterov's contraction per step is 1 - sqrt(mu gamma), so the drift term is kappa eta / sqrt(mu gamma) and
    eta <= sqrt(mu gamma) eps_y / (4 kappa); theta = (1 - sqrt(mu gamma)) / (1 + sqrt(mu gamma)), tau = 1/2
    (the released code's value).
SGD baselines (bounded-smoothness analyses): T = ceil(4 Delta / (alpha eps^2)).

``plan(name, source, eps, ...)`` returns the hyperparameters with the horizon T, the calls per iteration, the
warm-start calls and the total budget; ``Algorithm.from_theory`` warns when the budget exceeds
``BUDGET_WARNING`` oracle calls per run.
"""

from __future__ import annotations

import math

from ubo.synthetic.constants import Constants
from ubo.theory.phi_smoothness import certified_phi_constants

BUDGET_WARNING = 1e9   # oracle calls per run beyond which from_theory warns (hours of CPU per run)
_FIXED_POINT_ROUNDS = 4


def constants_and_dims(source) -> tuple[Constants, int | None, float | None]:
    """(constants, dim_x, Phi(x0) - inf Phi) from a problem, or (constants, None, None) from bare constants."""
    if isinstance(source, Constants):
        return source, None, None
    c = source.constants
    gap = None
    if getattr(source, "has_ground_truth", False) and c.phi_inf is not None:
        x0 = source.x0[None]
        gap = max(float(source.phi(x0)[0]) - c.phi_inf, 0.0)
    return c, getattr(source, "dim_x", None), gap


def _check(eps: float, delta: float) -> None:
    if not (isinstance(eps, (int, float)) and 0 < eps < math.inf):
        raise ValueError(f"eps must be a number in (0, inf), got {eps!r}")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise ValueError(f"delta must be a number in (0, 1), got {delta!r}")


def hypergradient_noise(c: Constants) -> float:
    """sigma_f + (l_f0 / mu) sigma_g2."""
    return c.sigma_f + c.l_f0 / c.mu * c.sigma_g2


def y_sensitivity(c: Constants, grad_bound: float = 1.0) -> float:
    """b_y = L_x0 + L_x1 (G + kappa l_f0) + kappa (L_y0 + L_y1 l_f0) + (1 + kappa) l_g2 l_f0 / mu (>= 1e-12)."""
    k = c.kappa
    return max(c.L_x0 + c.L_x1 * (grad_bound + k * c.l_f0) + k * (c.L_y0 + c.L_y1 * c.l_f0)
               + (1 + k) * c.l_g2 * c.l_f0 / c.mu, 1e-12)


def accuracy_targets(c: Constants, eps: float, grad_bound: float = 1.0) -> tuple[float, float]:
    """(eps_y, eps_z) = (eps / (4 b_y), eps / (4 l_g1))."""
    return eps / (4 * y_sensitivity(c, grad_bound)), eps / (4 * c.l_g1)


def momentum_one_minus_beta(c: Constants, eps: float) -> float:
    """1 - beta = min(1, (eps / sigma_h)^2)."""
    s = hypergradient_noise(c)
    return 1.0 if s == 0 else min(1.0, (eps / s) ** 2)


def sgd_step(l_g1: float, mu: float, target: float, sigma: float, log_factor: float) -> float:
    """min(1/l_g1, mu target^2 / (8 sigma^2 log_factor))."""
    if sigma == 0:
        return 1.0 / l_g1
    return min(1.0 / l_g1, mu * target**2 / (8 * sigma**2 * log_factor))


def normalized_eta(c: Constants, eps: float, one_minus_beta: float, drift_cap: float = math.inf) -> float:
    """Largest eta meeting the L0 term, the L1 condition and the given drift cap (see module doc)."""
    L0, L1 = certified_phi_constants(c)
    bounds = [eps * one_minus_beta / (64 * max(L0, 1e-12)), drift_cap]
    if L1 > 0:
        bounds.append(one_minus_beta / (32 * (math.e - 1) * L1))
    return min(bounds)


def warm_start_steps(eps_y: float, mu: float, gamma: float, distance0: float = 1.0) -> int:
    """T0 = ceil(log(D0 / eps_y) / (mu gamma)), at least 0."""
    return max(0, math.ceil(math.log(max(distance0 / eps_y, 1.0)) / (mu * gamma)))


def neumann_terms(c: Constants, eps: float) -> int:
    """Q = ceil(kappa log(4 kappa l_f0 / eps)), at least 1."""
    return max(1, math.ceil(c.kappa * math.log(max(4 * c.kappa * c.l_f0 / eps, 1.0))))


# ---- one function per method: (constants, eps, log factor, options) -> (hyper, horizon per unit gap) ----------
def _slip(c, eps, L, dims, G, distance0=1.0):
    eps_y, eps_z = accuracy_targets(c, eps, G)
    omb = momentum_one_minus_beta(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L)
    nu = sgd_step(c.l_g1, c.mu, eps_z, hypergradient_noise(c), L)
    eta = normalized_eta(c, eps, omb, gamma * c.mu * eps_y / (4 * c.kappa))
    return ({"eta": eta, "beta": 1.0 - omb, "gamma": gamma, "nu": nu,
             "warm_start": warm_start_steps(eps_y, c.mu, gamma, distance0), "z_radius": c.l_f0 / c.mu},
            4 / (eta * eps))


def _borep(c, eps, L, dims, G, distance0=1.0):
    eps_y, eps_z = accuracy_targets(c, eps, G)
    omb = momentum_one_minus_beta(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L)
    eta = normalized_eta(c, eps, omb, eps_y / (4 * c.kappa))
    gamma1 = 1.0 / c.l_g1
    epochs = max(math.ceil(math.log2(max(gamma1 / gamma, 1.0))) + 1,
                 math.ceil(math.log(max(distance0 / eps_y, 1.0)) / math.log(4.0)) + 1)
    warm = warm_start_steps(eps_y, c.mu, gamma, distance0)
    first = max(1, math.ceil(warm / (2**epochs - 1)), math.ceil(4.0 / (c.mu * gamma1)))
    return ({"eta": eta, "beta": 1.0 - omb, "gamma": gamma,
             "nu": sgd_step(c.l_g1, c.mu, eps_z, hypergradient_noise(c), L),
             "period": max(1, math.floor(eps_y / (4 * c.kappa * eta))),
             "lower_steps": math.ceil(math.log(8.0) / (c.mu * gamma)), "epoch_gamma": gamma1, "epochs": epochs,
             "first_epoch": first, "epoch_radius": distance0, "z_radius": c.l_f0 / c.mu},
            4 / (eta * eps))


def _adambo(c, eps, L, dims, G, lam=0.1, dim_x=None, distance0=1.0):
    from ubo.algorithms.upper import adam_step_bound

    dim_x = dim_x if dim_x is not None else dims
    if dim_x is None:
        raise ValueError("dim_x is required for AdamBO with bare constants (the drift condition scales with "
                         "sqrt(dim_x)): pass dim_x=... or the problem itself")
    if not (isinstance(lam, (int, float)) and lam > 0):
        raise ValueError(f"lam must be a number in (0, inf), got {lam!r}")
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = accuracy_targets(c, eps, G)
    s = hypergradient_noise(c)
    beta = min(0.5, lam, 1.0 if s == 0 else (eps / s) ** 2)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L)
    eta = lam**1.5 * beta * min(eps / (64 * max(L0, 1e-12)), math.inf if L1 == 0 else 1 / (32 * (math.e - 1) * L1))
    per_eta = adam_step_bound(1.0, beta, beta, bias_correction=True) * math.sqrt(dim_x)  # ||x' - x|| <= eta per_eta
    eta = min(eta, gamma * c.mu * eps_y / (4 * c.kappa * per_eta))
    return ({"eta": eta, "beta": beta, "beta_sq": beta, "lam": lam, "gamma": gamma,
             "warm_start": warm_start_steps(eps_y, c.mu, gamma, distance0), "neumann_scale": c.l_g1,
             "neumann_terms": neumann_terms(c, eps)},
            4 * (lam + G + s) / (eta * eps))


def sgd_upper_step(c: Constants, eps: float) -> float:
    """alpha = min(1 / (4 L0), eps^2 / (8 L0 sigma_h^2)): the SGD step for E||grad Phi||^2 <= eps^2 (L1 ignored)."""
    L0, _ = certified_phi_constants(c)
    s = hypergradient_noise(c)
    return min(1 / (4 * L0), math.inf if s == 0 else eps**2 / (8 * L0 * s**2))


def _soba(c, eps, L, dims, G):
    eps_y, eps_z = accuracy_targets(c, eps, G)
    alpha = sgd_upper_step(c, eps)
    return ({"alpha": alpha, "gamma": sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L),
             "nu": sgd_step(c.l_g1, c.mu, eps_z, hypergradient_noise(c), L)}, 4 / (alpha * eps**2))


def _ma_soba(c, eps, L, dims, G):
    hyper, per_gap = _soba(c, eps, L, dims, G)
    return {**hyper, "beta": 1.0 - momentum_one_minus_beta(c, eps), "z_radius": c.l_f0 / c.mu}, per_gap


def _stocbio(c, eps, L, dims, G):
    eps_y, _ = accuracy_targets(c, eps, G)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L)
    alpha = sgd_upper_step(c, eps)
    return ({"alpha": alpha, "gamma": gamma, "lower_steps": math.ceil(math.log(8.0) / (c.mu * gamma)),
             "neumann_scale": c.l_g1, "neumann_terms": neumann_terms(c, eps)}, 4 / (alpha * eps**2))


def _ttsa(c, eps, L, dims, G, steps=None):
    """Horizon K (default ceil(eps^-5), its O(K^-2/5) rate for E||grad Phi||^2 <= eps^2):
    alpha = min(1/(4 L0), K^-3/5), gamma = min(1/l_g1, K^-2/5)."""
    L0, _ = certified_phi_constants(c)
    K = math.ceil(eps**-5) if steps is None else steps
    return ({"alpha": min(1 / (4 * L0), K ** -0.6), "gamma": min(1 / c.l_g1, K ** -0.4),
             "neumann_scale": c.l_g1, "neumann_terms": neumann_terms(c, eps)}, ("steps", K))


def _accbo(c, eps, L, dims, G, distance0=1.0):
    L0, L1 = certified_phi_constants(c)
    eps_y, _ = accuracy_targets(c, eps, G)
    omb = momentum_one_minus_beta(c, eps)
    gamma = sgd_step(c.l_g1, c.mu, eps_y, c.sigma_g1, L)
    root = math.sqrt(c.mu * gamma)
    bounds = [eps * math.sqrt(omb) / (64 * max(L0, 1e-12)), root * eps_y / (4 * c.kappa)]
    if L1 > 0:
        bounds.append(omb / (32 * (math.e - 1) * L1))
    eta = min(bounds)
    return ({"eta": eta, "beta": 1.0 - omb, "gamma": gamma, "theta": (1 - root) / (1 + root), "tau": 0.5,
             "warm_start": warm_start_steps(eps_y, c.mu, gamma, distance0), "neumann_scale": c.l_g1,
             "neumann_terms": neumann_terms(c, eps)},
            4 / (eta * eps))


METHODS = {"slip": _slip, "borep": _borep, "adambo": _adambo, "soba": _soba, "ma_soba": _ma_soba,
           "stocbio": _stocbio, "ttsa": _ttsa, "accbo": _accbo}


def calls_per_iteration(name: str, hyper: dict) -> float:
    """Oracle calls per outer iteration (all kinds), on average over BO-REP's period."""
    q = hyper.get("neumann_terms", 1)
    return {"slip": lambda: 4, "soba": lambda: 4, "ma_soba": lambda: 4,
            "borep": lambda: 3 + hyper["lower_steps"] / hyper["period"],
            "adambo": lambda: q + 2, "ttsa": lambda: q + 2, "stocbio": lambda: hyper["lower_steps"] + q + 1,
            "accbo": lambda: 1 + 2 * (q + 1)}[name]()


def warm_calls(name: str, hyper: dict) -> int:
    if name == "borep":
        return hyper["first_epoch"] * (2 ** hyper["epochs"] - 1)
    return hyper.get("warm_start", 0)


def plan(name: str, source, eps: float, delta: float = 0.1, gap: float | None = None, grad_bound: float = 1.0,
         **options) -> dict:
    """The paper's parameters for ``name`` with the horizon T and the oracle budget.

    ``source`` is a problem or its Constants; ``gap`` = Phi(x0) - inf Phi (from the problem when it has ground
    truth, else 1); ``grad_bound`` = G >= sup_t ||grad Phi(x_t)||. Returns {"hyper", "horizon",
    "calls_per_iteration", "warm_calls", "budget", "log_factor", "gap"}.
    """
    _check(eps, delta)
    if name not in METHODS:
        raise ValueError(f"name must be one of {sorted(METHODS)}, got {name!r}")
    c, dims, problem_gap = constants_and_dims(source)
    gap = gap if gap is not None else (problem_gap if problem_gap is not None else 1.0)
    log_factor = math.log(math.e / delta)
    for _ in range(_FIXED_POINT_ROUNDS):  # gamma needs log(e T / delta), T needs eta, eta needs gamma
        used = log_factor
        hyper, per_gap = METHODS[name](c, eps, used, dims, grad_bound, **options)
        horizon = per_gap[1] if isinstance(per_gap, tuple) else max(1, math.ceil(gap * per_gap))
        log_factor = math.log(math.e * horizon / delta)
    per_iteration = calls_per_iteration(name, hyper)
    budget = warm_calls(name, hyper) + per_iteration * horizon
    return {"hyper": hyper, "horizon": horizon, "calls_per_iteration": per_iteration,
            "warm_calls": warm_calls(name, hyper), "budget": budget, "log_factor": used, "gap": gap}


def _hyper(name):
    def choose(source, eps: float, delta: float = 0.1, **options) -> dict:
        return plan(name, source, eps, delta, **options)["hyper"]
    choose.__name__ = name
    choose.__doc__ = f"{name}'s hyperparameters from ``plan`` (see the module docstring)."
    return choose


slip, borep, adambo, soba, ma_soba, stocbio, ttsa, accbo = (_hyper(n) for n in METHODS)
