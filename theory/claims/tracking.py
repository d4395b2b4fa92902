"""Claim 3: the lower-level tracking lemmas (SLIP's drift view, ICML 2024; BO-REP's periodic updates, ICLR 2024).

SLIP: with normalized upper steps the target y*(x_t) drifts by at most ||J|| eta per step, and SGD with
step gamma keeps, with high probability and uniformly in t (SLIP, Gong, Hao, Liu, ICML 2024, its tracking
lemma after Cutler, Drusvyatskiy, Harchaoui, JMLR 2023),
    ||y_t - y*(x_t)||^2 <~ C1 gamma sigma^2 log(T/delta) / mu + C2 kappa^2 eta^2 / (mu gamma)^2,
so ||y_t - y*(x_t)|| is within sqrt(2) of a sqrt(gamma) + b eta / gamma (the form fitted below).
The drift term is attained only when the drift lasts the tracking time 1/(mu gamma): on a run that
reaches the minimiser after T_drift = ||x0 - x*|| / eta steps, a gamma with 1/(mu gamma) > T_drift leaves
the lemma's regime (y* stops moving before the error builds up; the error is capped by y*'s total
displacement) and is reported but left out of the fit (declared rule below).
BO-REP refreshes y by N SGD steps every I iterations; the maps behind its periodic-update lemma (Hao,
Gong, Liu, ICLR 2024), x frozen during the N steps, are
    a refresh          r <- rho^N r  (+ SGD noise)      rho = 1 - gamma mu (gamma <= 1/l_g1)
    between refreshes  r <- r + ||J|| I eta             the drift of y* over I normalized steps
Iterated over the K = max(1, T_drift / I) refreshes during which y* drifts, from r = 0, the drift part
of the uniform error is ||J|| I eta (1 - rho^(N K)) / (1 - rho^N) (-> ||J|| I eta / (1 - rho^N) once
K N gamma mu >> 1); the noise part is SGD's stationary spread, which does not depend on I or N. So
    q(I, N) = a + b I eta (1 - rho^(N K)) / (1 - rho^N),
swept over I at N = log 8 / (mu gamma) and over N at fixed I.

Probe. Runs start at y_0 = y*(x_0) (no initial error, so only the two terms remain) and every step's
||y_t - y*(x_t)|| enters the per-run maximum (the runner's every-step summary). The (1 - DELTA)-quantile
over runs of that maximum is measured along a sweep of gamma (SLIP, eta fixed) and of I and N (BO-REP,
gamma fixed), and the two-term shape is fitted by non-negative least squares in relative error, against
each term alone and a constant (an error that does not depend on the swept parameter, e.g. a frozen
lower level). SLIP's measured maxima are also divided by the almost-sure ceiling sigma_g1 / mu +
||J|| eta / (gamma mu) (valid for gamma <= 1/l_g1 from y_0 = y*(x_0)); a ratio above 1 is a bug, not bad luck.

Verdict rule (declared before running; per method): reproduced when both fitted coefficients are positive,
the two-term model's relative RMSE is <= 0.2, and it is <= 0.5 x the best one-term model's (either term
alone or a constant); otherwise not reproduced. SLIP's fit uses the gammas with 1/(mu gamma) <= T_drift
(at least 3 of them, else not reproduced).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy.optimize import nnls

from ubo import algorithms
from ubo.progress import tqdm
from ubo.theory.claims.instances import l1_instance
from ubo.theory.claims.result import NOT_REPRODUCED, REPRODUCED, ClaimResult, verdict_row
from ubo.theory.claims.schedules import make_method

DELTA = 0.1


def fit_two_terms(q, f1, f2) -> dict:
    """NNLS fit of q ~ a f1 + b f2 in relative error, and of each term alone; relative RMSEs."""
    q, f1, f2 = (np.asarray(v, dtype=float) for v in (q, f1, f2))
    design = np.stack([f1 / q, f2 / q], axis=1)
    (a, b), _ = nnls(design, np.ones_like(q))
    both = float(np.sqrt(np.mean((design @ [a, b] - 1) ** 2)))
    single = []
    for column in (design[:, 0], design[:, 1], 1.0 / q):  # each term alone, and a constant
        (k,), _ = nnls(column[:, None], np.ones_like(q))
        single.append(float(np.sqrt(np.mean((column * k - 1) ** 2))))
    return {"a": float(a), "b": float(b), "rmse": both, "rmse_first": single[0], "rmse_second": single[1],
            "rmse_constant": single[2]}


def rule(fit: dict) -> str:
    best_single = min(fit["rmse_first"], fit["rmse_second"], fit["rmse_constant"])
    ok = fit["a"] > 0 and fit["b"] > 0 and fit["rmse"] <= 0.2 and fit["rmse"] <= 0.5 * best_single
    return REPRODUCED if ok else NOT_REPRODUCED


def stationary_point(problem, tol: float = 1e-8, max_steps: int = 100_000) -> torch.Tensor:
    """x* by clipped gradient descent x <- x - grad Phi / (L0 + L1 ||grad Phi||), a descent step for any
    (L0, L1)-smooth Phi (Phi's certified pair), from x0 until ||grad Phi|| <= tol."""
    c = problem.constants
    x = problem.x0[None].clone()
    for _ in range(max_steps):
        g = problem.grad_phi(x)
        norm = float(g.norm())
        if norm <= tol:
            break
        x = x - g / (c.phi_L0 + (c.phi_L1 or 0.0) * norm)
    return x[0]


def drift_steps(problem, eta: float) -> float:
    """T_drift = ||x0 - x*|| / eta: the normalized steps the upper iterate drifts before reaching x*."""
    return float((problem.x0 - stationary_point(problem)).norm()) / eta


def periodic_drift(period: int, lower_steps: int, eta: float, rho: float, t_drift: float) -> float:
    """I eta (1 - rho^(N K)) / (1 - rho^N), K = max(1, T_drift / I): BO-REP's drift term (module doc)."""
    k = max(1.0, t_drift / period)
    return period * eta * (1.0 - rho ** (lower_steps * k)) / (1.0 - rho**lower_steps)


def sup_errors(algo, problem, runs: int, steps: int, seed: int) -> np.ndarray:
    """Per-run max_t ||y_t - y*(x_t)|| from y_0 = y*(x_0)."""
    y0 = problem.y_star(problem.x0[None])[0]
    trace = algorithms.run(algo, problem, runs=runs, steps=steps, seed=seed, record_every=steps, y0=y0,
                           every_step_summary=True, progress=False)
    values = trace.summary["max_y_error"].cpu().numpy()
    return values[~trace.diverged.cpu().numpy()]


def claim_tracking(preset: dict, instance=l1_instance, sigma: float = 1.0, seed: int = 0,
                   progress: bool = True) -> ClaimResult:
    problem = instance(noise="bounded", sigma=sigma)
    c = problem.constants
    runs, steps, eps = preset["track_runs"], preset["track_steps"], preset["tail_eps"]
    gammas, periods, lower_sweep = preset["gammas"], preset["periods"], preset["lower_steps"]
    base = make_method("slip", problem, eps)
    eta, gamma0 = base.eta, min(preset["gammas"][-1], 1.0 / c.l_g1)
    drift = float(problem.drift_lipschitz) if hasattr(problem, "drift_lipschitz") else c.kappa
    t_drift = drift_steps(problem, eta)
    bar = tqdm(total=len(gammas) + len(periods) + len(lower_sweep), desc="claim 3: tracking", disable=not progress)
    rows = []
    for gamma in gammas:
        algo = make_method("slip", problem, eps, gamma=gamma, warm_start=0)
        sups = sup_errors(algo, problem, runs, steps, seed)
        ceiling = c.sigma_g1 / c.mu + drift * eta / (gamma * c.mu)
        rows.append({"method": "slip", "sweep": "gamma", "gamma": gamma, "period": 1, "lower_steps": 1, "eta": eta,
                     "q": float(np.quantile(sups, 1 - DELTA)), "max": float(sups.max()), "ceiling": ceiling,
                     "max_over_ceiling": float(sups.max() / ceiling), "in_regime": 1 / (c.mu * gamma) <= t_drift})
        bar.update(1)
    lower, rho = math.ceil(math.log(8.0) / (c.mu * gamma0)), 1.0 - gamma0 * c.mu
    settings = [("I", period, lower) for period in periods] + [("N", preset["n_period"], n) for n in lower_sweep]
    for sweep, period, n in settings:
        algo = make_method("borep", problem, eps, gamma=gamma0, period=period, lower_steps=n, epochs=0)
        sups = sup_errors(algo, problem, runs, steps, seed)
        rows.append({"method": "borep", "sweep": sweep, "gamma": gamma0, "period": period, "lower_steps": n,
                     "eta": algo.eta, "drift": periodic_drift(period, n, algo.eta, rho, drift_steps(problem, algo.eta)), "q": float(np.quantile(sups, 1 - DELTA)), "max": float(sups.max()),
                     "ceiling": math.nan, "max_over_ceiling": math.nan, "in_regime": True})
        bar.update(1)
    bar.close()
    table = pd.DataFrame(rows)
    s, b = table[(table.method == "slip") & table.in_regime], table[table.method == "borep"]
    fits = {"slip": fit_two_terms(s.q, np.sqrt(s.gamma), s.eta / s.gamma) if len(s) >= 3 else None,
            "borep": fit_two_terms(b.q, np.ones(len(b)), b.drift)}
    verdicts = []
    for method, fit in fits.items():
        if fit is None:
            verdicts.append(verdict_row(method, NOT_REPRODUCED, f"fewer than 3 gammas in the lemma's regime "
                                                                f"1/(mu gamma) <= T_drift = {t_drift:.0f}"))
            continue
        terms = ("a sqrt(gamma)", "b eta/gamma") if method == "slip" else ("a", "b I eta (1-rho^(NK))/(1-rho^N)")
        verdicts.append(verdict_row(method, rule(fit), (
            f"{terms[0]} + {terms[1]}: a = {fit['a']:.3g}, b = {fit['b']:.3g}, rel. RMSE {fit['rmse']:.3f} "
            f"(alone: {fit['rmse_first']:.3f}, {fit['rmse_second']:.3f}; constant {fit['rmse_constant']:.3f})")))
    worst = float(table[table.method == "slip"].max_over_ceiling.max())
    out = table[(table.method == "slip") & ~table.in_regime].gamma.tolist()
    return ClaimResult(
        key="tracking", title="Claim 3: lower-level tracking lemmas",
        statement=("SLIP (ICML 2024): uniformly in t, ||y_t - y*(x_t)||^2 <~ gamma sigma^2 log(T/delta)/mu + "
                   "kappa^2 eta^2/(mu gamma)^2 (distribution-drift view, after Cutler, Drusvyatskiy, Harchaoui, JMLR "
                   "2023); BO-REP (ICLR 2024): periodic updates (N SGD steps every I iterations) keep the error at "
                   "a noise floor plus the drift kappa I eta amplified by 1 / (1 - (1 - gamma mu)^N)."),
        probe=(f"{1 - DELTA:.0%}-quantile over {runs} runs of max_t ||y_t - y*(x_t)|| over {steps} steps from y* "
               f"(SLIP: gamma sweep at eta = {eta:.3g}, fitted over the gammas with 1/(mu gamma) <= T_drift = "
               f"{t_drift:.0f} steps; BO-REP: I sweep at N = {lower} and N sweep at I = {preset['n_period']}, "
               f"gamma = {gamma0:.3g})."),
        rule="two-term NNLS fit with positive coefficients, relative RMSE <= 0.2 and <= half the best one-term "
             "fit (either term alone or a constant): reproduced; else not reproduced.",
        verdicts=pd.DataFrame(verdicts), table=table, plot={"fits": fits},
        notes=[f"largest SLIP max / a.s. ceiling: {worst:.3f} (must be <= 1)",
               f"SLIP gammas outside the lemma's regime (1/(mu gamma) > T_drift = {t_drift:.0f}), reported, not "
               f"fitted: {out if out else 'none'}"])
