"""The bounds the probes compare against, as plain functions of constants and hyperparameters.

Each function carries ``.kind``: "every realisation" (a violation is a bug), "expectation"
(compare with a mean over runs) or "probability 1-delta" (compare with a quantile), and
``.source``. Derivations of the bounds marked "derived here" are in docs/theory.md.
Notation: Phi (L0, L1)-smooth; G_t = ||grad Phi(x_t)||; eps_t = m_t - grad Phi(x_t); the lower
level g(x, .) is mu-strongly convex and L_g-smooth; its SGD step is gamma <= 1/L_g.
"""

from __future__ import annotations

import math

import numpy as np

E = math.e
EVERY = "every realisation"
EXPECTATION = "expectation"
PROBABILITY = "probability 1-delta"


def bound(kind: str, source: str):
    """Tag a bound function with its guarantee kind and its source."""
    def wrap(fn):
        fn.kind, fn.source = kind, source
        return fn
    return wrap


def _check_step(name: str, gamma: float, mu: float) -> None:
    if not (0 < gamma * mu <= 1):
        raise ValueError(f"{name} must satisfy 0 < {name} * mu <= 1, got {name}={gamma!r}, mu={mu!r}")


# ---- upper level: normalized momentum ------------------------------------------------------
def stationarity_applies(eta: float, beta: float, L1: float) -> bool:
    """Step-size condition of ``stationarity_bound``: eta <= (1 - beta) / (32 (e - 1) L1)."""
    return L1 == 0 or eta <= (1.0 - beta) / (32.0 * (E - 1.0) * L1)


@bound(EXPECTATION, "derived in docs/theory.md section 2 (Cutkosky, Mehta, 'Momentum improves normalized SGD', ICML 2020, Theorem 1, adapted to (L0,L1))")
def stationarity_bound(L0: float, L1: float, delta_phi: float, eta: float, beta: float, steps: int,
                       sigma: float, eps0: float, bias: float = 0.0) -> float:
    """Average stationarity of normalized SGD with momentum (m_t = beta m_{t-1} + (1-beta) g_t).

    Assumptions: Phi (L0, L1)-smooth (Hessian form); g_t = grad Phi(x_t) + b_t + xi_t with
    ||b_t|| <= bias and martingale-difference noise E||xi_t||^2 <= sigma^2; Phi(x_0) - inf Phi <= delta_phi;
    eta <= (1 - beta) / (32 (e - 1) L1) (see ``stationarity_applies``). Then

        (1/T) sum_{t<T} E G_t <= 2 [6 delta_phi/(eta T) + 16 ||eps_0||/(T (1-beta)) + 16 sigma sqrt(1-beta)
                                    + 16 (e-1) L0 eta/(1-beta) + 3 e L0 eta + 16 bias].
    """
    if not stationarity_applies(eta, beta, L1):
        raise ValueError(f"eta must be <= (1 - beta) / (32 (e - 1) L1) = "
                         f"{(1 - beta) / (32 * (E - 1) * L1):.3g}, got {eta!r}")
    one_minus = 1.0 - beta
    return 2.0 * (6.0 * delta_phi / (eta * steps) + 16.0 * eps0 / (steps * one_minus)
                  + 16.0 * sigma * math.sqrt(one_minus) + 16.0 * (E - 1.0) * L0 * eta / one_minus
                  + 3.0 * E * L0 * eta + 16.0 * bias)


def descent_applies(eta: float, L1: float) -> bool:
    """Condition of ``descent_bound``: eta <= 1 / (3 e L1)."""
    return L1 == 0 or eta <= 1.0 / (3.0 * E * L1)


@bound(EVERY, "derived in docs/theory.md section 2 (Cutkosky, Mehta, 'Momentum improves normalized SGD', ICML 2020, Lemma 2, under (L0,L1))")
def descent_bound(eta: float, L0: float) -> float:
    """Per-step descent inequality of a normalized step x' = x - eta m/||m||, eps = m - grad Phi(x):

        Phi(x') - Phi(x) + (eta/6) G(x) - (8 eta/3) ||eps|| <= (e/2) L0 eta^2.

    Assumptions: Phi (L0, L1)-smooth in Hessian form on the segment; eta <= 1/(3 e L1).
    Returns the right-hand side; the probe compares the left-hand side, step by step.
    """
    return 0.5 * E * L0 * eta**2


@bound(EXPECTATION, "derived in docs/theory.md section 2 (momentum-error unrolling)")
def momentum_error_bound(beta: float, eps0: np.ndarray, sigma: float, eta: float, L0: float, L1: float,
                         grad_norms: np.ndarray, bias_max: float) -> np.ndarray:
    """E||m_t - grad Phi(x_t)|| for t = 0..T-1, from eps_t = beta eps_{t-1} + beta (grad Phi_{t-1} - grad Phi_t)
    + (1 - beta)(xi_t + b_t):

        beta^t ||eps_0|| + sigma sqrt(1-beta) + (e-1) eta sum_{s=1}^t beta^(t-s+1) (L0 + L1 G_{s-1}) + max_s b_s.

    Assumptions: Phi (L0, L1)-smooth, ||x_s - x_{s-1}|| = eta <= 1/L1 (so (C2) gives the e-1 factor),
    martingale-difference noise with E||xi||^2 <= sigma^2, bias ||b_s|| <= bias_max.
    ``grad_norms`` (T,) are G_0..G_{T-1}; ``eps0`` a scalar. Compare with a mean over runs.
    """
    grad_norms = np.asarray(grad_norms, dtype=float)
    steps = grad_norms.shape[0]
    drift = np.zeros(steps)
    acc = 0.0
    for t in range(1, steps):  # acc_t = beta (acc_{t-1} + (L0 + L1 G_{t-1}))
        acc = beta * (acc + L0 + L1 * grad_norms[t - 1])
        drift[t] = acc
    powers = beta ** np.arange(steps)
    return powers * float(eps0) + sigma * math.sqrt(1.0 - beta) + (E - 1.0) * eta * drift + bias_max


@bound(EVERY, "Ghadimi, Wang, 'Approximation methods for bilevel programming', arXiv:1802.02246, Lemma 2.2: y* is kappa-Lipschitz; normalized steps have length eta")
def drift_bound(step_length, lipschitz: float):
    """||y*(x_{t+1}) - y*(x_t)|| <= lipschitz * ||x_{t+1} - x_t|| (= lipschitz * eta for normalized steps)."""
    return lipschitz * np.asarray(step_length, dtype=float)


# ---- lower level: SGD tracking a drifting minimiser ---------------------------------------
@bound(EXPECTATION, "derived in docs/theory.md section 3 (cf. Cutler, Drusvyatskiy, Harchaoui, 'Stochastic optimization under distributional drift', JMLR 2023)")
def tracking_mean_bound(t, e0: float, gamma: float, mu: float, sigma_g: float, drift: float) -> np.ndarray:
    """E||y_t - y*(x_t)||^2 <= (1 - gamma mu)^t e_0 + 2 gamma sigma_g^2 / mu + 2 drift^2 / (gamma mu)^2.

    Assumptions: one SGD step y <- y - gamma grad_y G per iteration, gamma <= 1/L_g, E||xi||^2 <= sigma_g^2,
    per-step drift ||y*(x_{t+1}) - y*(x_t)|| <= drift; e_0 = E||y_0 - y*(x_0)||^2 (squared error).
    """
    _check_step("gamma", gamma, mu)
    t = np.asarray(t, dtype=float)
    return (1 - gamma * mu) ** t * e0 + 2 * gamma * sigma_g**2 / mu + 2 * drift**2 / (gamma * mu) ** 2


@bound(EVERY, "derived in docs/theory.md section 3")
def tracking_ceiling(t, d0, gamma: float, mu: float, sigma_g: float, drift) -> np.ndarray:
    """Almost-sure ceiling under bounded noise (||xi|| <= sigma_g a.s.), for every t and realisation:

        ||y_t - y*(x_t)|| <= (1 - gamma mu)^t ||y_0 - y*(x_0)|| + sigma_g / mu + drift / (gamma mu).

    Same assumptions as ``tracking_mean_bound`` with the a.s. noise bound; d0 (and drift) may be
    per-run arrays. Valid whether the y-step uses x_t or x_{t+1}.
    """
    _check_step("gamma", gamma, mu)
    t = np.asarray(t, dtype=float)
    return (1 - gamma * mu) ** t * np.asarray(d0, dtype=float) + sigma_g / mu + np.asarray(drift) / (gamma * mu)


@bound(EXPECTATION, "derived in docs/theory.md section 3 (BO-REP periodic updates, Hao, Gong, Liu, ICLR 2024)")
def periodic_tracking_bound(steps: int, d0: float, gamma: float, mu: float, sigma_g: float, inner: int,
                            period: int, drift: float, almost_sure: bool = False) -> np.ndarray:
    """BO-REP's two-map recursion: the bound on ||y - y*(x_k)|| in the state after k iterations, k = 0..steps.

    Iteration k (0-based) first refreshes y by ``inner`` SGD steps at x_k (x frozen) when k % period == 0
    and k > 0, then moves x_k -> x_{k+1} with y unchanged (algorithms.borep). With r the bound:

        refresh  r <- sqrt((1 - gamma mu)^(2N) r^2 + gamma sigma_g^2 / mu)        (root-mean-square)
                 r <- (1 - gamma mu)^N r + (sigma_g/mu)(1 - (1 - gamma mu)^N)     (almost_sure, ||xi|| <= sigma_g)
        move     r <- r + drift                                                   (Minkowski / triangle)

    Kind: with almost_sure=False it bounds sqrt(E||y_k - y*_k||^2) (compare the RMS over runs; the
    refresh map is the SGD contraction (1 - gamma mu)^2 per step plus gamma^2 sigma^2 per step summed);
    with almost_sure=True it holds for every realisation under bounded noise. gamma <= 1/L_g.
    """
    _check_step("gamma", gamma, mu)
    rho = 1.0 - gamma * mu
    out = np.empty(steps + 1)
    r = float(d0)
    out[0] = r
    for k in range(steps):
        if k % period == 0 and k > 0:
            if almost_sure:
                r = rho**inner * r + (sigma_g / mu) * (1 - rho**inner)
            else:
                r = math.sqrt(rho ** (2 * inner) * r * r + gamma * sigma_g**2 / mu)
        r = r + drift
        out[k + 1] = r
    return out


# ---- linear system: z and the Neumann series ---------------------------------------------
@bound(EVERY, "derived in docs/theory.md section 4 (SOBA z recursion, Dagreou et al., NeurIPS 2022)")
def z_contraction_bound(k, e0: float, nu: float, mu: float) -> np.ndarray:
    """Noise-free z_k = z_{k-1} - nu (A z_{k-1} - b) at fixed (x, y): ||z_k - z*|| <= (1 - nu mu)^k ||z_0 - z*||.

    Assumptions: A symmetric with spectrum in [mu, L], nu <= 1/L.
    """
    _check_step("nu", nu, mu)
    return (1 - nu * mu) ** np.asarray(k, dtype=float) * e0


@bound(EVERY, "derived in docs/theory.md section 4 (Neumann identity S_Q = A^-1 (I - (I - A/C)^Q); Ji, Yang, Liang, ICML 2021)")
def neumann_bias_bound(mu: float, C: float, depth: int, jac_norm: float, grad_y_norm: float) -> float:
    """Truncation bias of the Neumann hypergradient with S_Q = (1/C) sum_{q<Q} (I - A/C)^q:

        ||grad2_xy g (A^-1 - S_Q) grad_y f|| <= jac_norm (1 - mu/C)^Q / mu * grad_y_norm.

    Assumptions: A symmetric, spectrum in [mu, C] (C >= L_g); jac_norm >= ||grad2_xy g||,
    grad_y_norm >= ||grad_y f|| (l_f0 at y*). Holds for every realisation of the exact operators.
    """
    if not (C >= mu > 0):
        raise ValueError(f"C must be >= mu > 0, got C={C!r}, mu={mu!r}")
    return jac_norm * (1.0 - mu / C) ** depth / mu * grad_y_norm


ALL_BOUNDS = (stationarity_bound, descent_bound, momentum_error_bound, drift_bound, tracking_mean_bound,
              tracking_ceiling, periodic_tracking_bound, z_contraction_bound, neumann_bias_bound)
