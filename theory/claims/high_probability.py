"""Claim 2: high probability, a log(1/delta) factor (SLIP, ICML 2024; AdamBO, TMLR 2025; BO-REP Thm 1 holds
with probability >= 1 - delta over the lower-level randomness).

Probe. Each method runs R seeds (one batched run) at one eps with the papers' parameter orders for that
eps and the claim-1 horizon; S_r = (1/T) sum_{t<T} ||grad Phi(x_t)||, the measure the theorems bound. For
each delta with R delta >= MIN_TAIL (so the quantile has at least that many runs beyond it) the
(1 - delta)-quantile of S_r gets an exact binomial order-statistic 95% CI (theory.tails.quantile_ci),
and three shapes are fitted to q(delta) (theory.tails.fit_tail_models): a + b log(1/delta) (the
theorems' factor), a + b sqrt(log(1/delta)) (sub-Gaussian), and log q = a + p log(1/delta) (power law).
Run under bounded noise (the assumption) and under Student-t noise with 3 degrees of freedom and the
same variance (outside it) as the contrast.

Verdict rule (declared before running; per method and noise law). The bound O(log(1/delta)) is an upper
bound, so any growth at most logarithmic is consistent with it; a power law is not:
    inconclusive    the CI of the deepest quantile does not lie above the CI of the median (no resolved
                    growth in delta, so no shape to judge)
    not reproduced  the power law fits best and its log-RMSE is below 0.8 x the better log-type fit
    reproduced      a log-type model fits best and the power law's log-RMSE exceeds 1.25 x its own
    inconclusive    otherwise (the fits are within 25% of each other: the spread is too small to tell)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ubo.progress import tqdm
from ubo.theory.claims.complexity import horizon
from ubo.theory.claims.instances import l1_instance
from ubo.theory.claims.measure import final_average, run_batched
from ubo.theory.claims.result import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, ClaimResult, verdict_row
from ubo.theory.claims.schedules import make_method
from ubo.theory.tails import fit_tail_models, quantile_table

DELTAS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
MIN_TAIL = 5


def rule(fits: pd.DataFrame, table: pd.DataFrame | None = None) -> str:
    if table is not None and not table["ci_low"].iloc[-1] > table["ci_high"].iloc[0]:
        return INCONCLUSIVE  # the deepest quantile is not resolved from the median: no shape to judge
    err = fits.set_index("model")["log_rmse"]
    log_type = min(err["log"], err["sqrt_log"])
    if err["power"] < 0.8 * log_type:
        return NOT_REPRODUCED
    if err["power"] > 1.25 * log_type:
        return REPRODUCED
    return INCONCLUSIVE


def tail_statistic(method: str, problem, eps: float, runs: int, max_steps: int, seed: int) -> np.ndarray:
    algo = make_method(method, problem, eps)
    trace = run_batched(algo, problem, runs, horizon(problem, algo, eps, max_steps), seed)
    values = final_average(trace)
    return values[np.isfinite(values)]


def claim_high_probability(preset: dict, instance=l1_instance, methods=("borep", "slip", "adambo"),
                           sigma: float = 1.0, seed: int = 0, progress: bool = True) -> ClaimResult:
    runs, eps = preset["tail_runs"], preset["tail_eps"]
    deltas = [d for d in DELTAS if runs * d >= MIN_TAIL]
    laws = {"bounded": instance(noise="bounded", sigma=sigma), "student_t": instance(noise="student_t", sigma=sigma, nu=3.0)}
    rows, verdicts, plot = [], [], {"deltas": deltas, "series": {}}
    bar = tqdm(total=len(methods) * len(laws), desc="claim 2: high probability", disable=not progress)
    for method in methods:
        for law, problem in laws.items():
            values = tail_statistic(method, problem, eps, runs, preset["max_steps"], seed)
            table = quantile_table(values, deltas)
            fits = fit_tail_models(table["delta"], table["q"])
            verdict = rule(fits, table)
            err = fits.set_index("model")
            evidence = (f"{law}: q(0.5) {table['q'].iloc[0]:.3g} -> q({deltas[-1]}) {table['q'].iloc[-1]:.3g}; "
                        f"log-RMSE log {err.loc['log', 'log_rmse']:.3g}, sqrt-log {err.loc['sqrt_log', 'log_rmse']:.3g}, "
                        f"power {err.loc['power', 'log_rmse']:.3g} (slope b of log fit {err.loc['log', 'b']:.3g})")
            verdicts.append(verdict_row(f"{method} ({law})", verdict, evidence))
            for _, r in table.iterrows():
                rows.append({"method": method, "noise": law, **r.to_dict()})
            plot["series"][f"{method} ({law})"] = table
            bar.update(1)
    bar.close()
    return ClaimResult(
        key="high_probability", title="Claim 2: high probability with a log(1/delta) factor",
        statement=("SLIP (ICML 2024) and AdamBO (TMLR 2025) bound (1/T) sum_t ||grad Phi(x_t)|| with probability "
                   ">= 1 - delta, at a cost polylogarithmic in 1/delta, under almost-surely bounded noise; BO-REP "
                   "(ICLR 2024, Thm 1) holds with probability >= 1 - delta over its lower-level randomness."),
        probe=(f"(1 - delta)-quantiles of the stationarity average over {runs} runs at eps = {eps}, exact binomial "
               "CIs; fits a + b log(1/delta), a + b sqrt(log(1/delta)), power law; bounded vs Student-t(3) noise."),
        rule="deepest quantile's CI not above the median's: inconclusive; power law best by 20%: not reproduced; a log-type model best and the power law 25% worse: "
             "reproduced; else inconclusive.",
        verdicts=pd.DataFrame(verdicts), table=pd.DataFrame(rows), plot=plot,
        notes=[f"deltas with R delta >= {MIN_TAIL}: {deltas}"])
