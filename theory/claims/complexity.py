"""Claim 1: oracle complexity O~(eps^-4) (BO-REP Thm 1, ICLR 2024; SLIP Thm, ICML 2024; AdamBO Thm, TMLR).

Probe. For each eps of a ladder, every method runs with the papers' parameter orders for that eps
(claims.schedules: 1 - beta ~ eps^2, eta ~ eps^3, gamma, nu ~ eps^2, I, N ~ eps^-2; AdamBO beta ~ eps^2
<= lam), all seeds in one batched run, and C_r(eps) = the oracle calls at which run r's running average
(1/t) sum_{s<t} ||grad Phi(x_s)|| first falls to eps is recorded (claims.measure). The slope of
log median_r C_r(eps) against log eps gets a bootstrap CI over runs. The same ladder is run without
noise as the control: there the same rules give 1 - beta = 1, eta ~ eps and gamma = 1/l_g1, whose
deterministic rate is eps^-2, so the two slopes differ by the price of noise. SOBA (SGD on x, the
bounded-smooth baseline, alpha ~ eps^2) runs the same ladder on the same instance.

Horizon. Each eps runs for ceil(HORIZON x T_pred) steps, T_pred = 2 (Phi(x0) - inf Phi) / (eta eps) (the
descent transient, known before running), capped by the preset's max_steps; runs that never reach eps
are right-censored (C = inf).

Verdict rule (declared before running; per method, noisy ladder):
    inconclusive    the median is censored at some eps, or the 95% CI is wider than 2
    reproduced      the 95% CI of the slope contains -4
    not reproduced  otherwise (the CI excludes -4 and is at most 2 wide)
The noise-free slope and the difference noisy - control are reported next to it (expected near -2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ubo.theory.claims.instances import l1_instance
from ubo.theory.claims.measure import calls_to_eps, median_slope, run_batched
from ubo.theory.claims.result import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, ClaimResult, verdict_row
from ubo.theory.claims.schedules import make_method

HORIZON = 3.0
PREDICTED = -4.0
MAX_CI_WIDTH = 2.0


def horizon(problem, algo, eps: float, max_steps: int) -> int:
    """ceil(HORIZON * 2 Delta / (eta eps)) (eta: the upper step, alpha for SGD), at most max_steps."""
    c = problem.constants
    delta_phi = float(problem.phi(problem.x0[None])[0]) - c.phi_inf
    step = getattr(algo, "eta", None) or getattr(algo, "alpha")
    if algo.name == "adambo":  # per-coordinate step eta: ||x' - x|| up to eta sqrt(d_x)
        step *= math.sqrt(problem.dim_x)
    return int(min(max_steps, math.ceil(HORIZON * 2 * delta_phi / (step * eps))))


def ladder(method: str, problem, eps_list, runs: int, max_steps: int, seed: int, bar=None) -> list[np.ndarray]:
    """C_r(eps) arrays, one per eps (one batched run each)."""
    out = []
    for eps in eps_list:
        algo = make_method(method, problem, eps)
        trace = run_batched(algo, problem, runs, horizon(problem, algo, eps, max_steps), seed)
        out.append(calls_to_eps(trace, eps))
        if bar is not None:
            bar.update(1)
    return out


def rule(fit: dict, censored: bool) -> str:
    width = fit["ci_high"] - fit["ci_low"]
    if censored or not fit["defined"] or not (width <= MAX_CI_WIDTH):
        return INCONCLUSIVE
    return REPRODUCED if fit["ci_low"] <= PREDICTED <= fit["ci_high"] else NOT_REPRODUCED


def claim_complexity(preset: dict, instance=l1_instance, methods=("borep", "slip", "adambo", "soba"),
                     noise: str = "bounded", sigma: float = 1.0, seed: int = 0, progress: bool = True) -> ClaimResult:
    eps_list = list(preset["eps_ladder"])
    runs, max_steps = preset["runs"], preset["max_steps"]
    rows, verdicts, plot = [], [], {"eps": eps_list, "series": {}}
    problems = {"noisy": instance(noise=noise, sigma=sigma), "noise-free": instance(noise="none", sigma=0.0)}
    bar = tqdm(total=2 * len(methods) * len(eps_list), desc="claim 1: complexity", disable=not progress)
    fits = {}
    for method in methods:
        for label, problem in problems.items():
            calls = ladder(method, problem, eps_list, runs, max_steps, seed, bar)
            fit = median_slope(eps_list, calls)
            fits[(method, label)] = fit
            med = [float(np.median(c)) for c in calls]
            plot["series"][f"{method} ({label})"] = med
            for eps, c, m in zip(eps_list, calls, med):
                rows.append({"method": method, "noise": label, "eps": eps, "median_calls": m,
                             "reached": float(np.isfinite(c).mean()), "runs": len(c)})
            if label == "noisy":
                censored = any(not math.isfinite(m) for m in med)
                noisy_fit = fit
        control = fits[(method, "noise-free")]
        evidence = (f"noisy slope {noisy_fit['slope']:.2f} [{noisy_fit['ci_low']:.2f}, {noisy_fit['ci_high']:.2f}]; "
                    f"noise-free {control['slope']:.2f} [{control['ci_low']:.2f}, {control['ci_high']:.2f}]")
        verdicts.append(verdict_row(method, rule(noisy_fit, censored), evidence))
    bar.close()
    slopes = pd.DataFrame([{"method": m, "noise": n, **f} for (m, n), f in fits.items()])
    return ClaimResult(
        key="complexity", title="Claim 1: oracle complexity O~(eps^-4)",
        statement=("BO-REP (Hao, Gong, Liu, ICLR 2024, Thm 1), SLIP (Gong, Hao, Liu, ICML 2024, main theorem) and "
                   "AdamBO (Gong, Hao, Liu, TMLR 2025, main theorem) reach (1/T) sum_t ||grad Phi(x_t)|| <= eps "
                   "within O~(eps^-4) stochastic gradient / Hessian-vector calls under bounded noise."),
        probe=("median over runs of the oracle calls until the running average of ||grad Phi|| first reaches eps, "
               f"for eps in {eps_list}, the papers' parameter orders per eps; log-log slope with a bootstrap CI; "
               "the noise-free ladder as the control (expected slope -2)."),
        rule="95% CI of the noisy slope contains -4: reproduced; excludes it (CI width <= 2): not reproduced; "
             "a censored median or a CI wider than 2: inconclusive.",
        verdicts=pd.DataFrame(verdicts), table=pd.DataFrame(rows), plot={**plot, "slopes": slopes},
        notes=[f"runs per eps {runs}; horizon {HORIZON} x 2 Delta/(eta eps), capped at {max_steps} steps"])
