"""The pilot behind the schedule constants of claims.schedules, run over several seeds and recorded.

The constants were fixed before any claim ran (C_BETA = C_ETA = 1: the theorems' orders with unit
constants; C_GAMMA = 4, C_L1 = 0.5, C_PERIOD = 0.5, C_ALPHA = 0.5 from a one-seed pilot of SLIP) and
are frozen. This pilot checks the choice on PILOT_RUNS seeds instead of one: SLIP on claim 1's instance
at PILOT_EPS, with C_ETA scaled by each factor of PILOT_FACTORS, records the oracle calls to reach eps
(claims.hitting) per seed. It states, in every report, that the frozen C_ETA is not at a cliff (all
seeds reach eps, with a spread the report gives) and what a 2x smaller or larger constant would cost.
It never changes the constants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ubo.theory.claims import schedules
from ubo.theory.claims.hitting import calls_to_hit
from ubo.theory.claims.instances import complexity_instance

PILOT_EPS = 0.11
PILOT_RUNS = 16
PILOT_FACTORS = (0.5, 1.0, 2.0)
PILOT_MAX_STEPS = 1500


def pilot(instance=complexity_instance, seed: int = 100) -> pd.DataFrame:
    """One row per factor of C_ETA: median and 10/90% quantiles of the calls to reach PILOT_EPS, reached share."""
    problem = instance(noise="bounded")
    rows = []
    for factor in PILOT_FACTORS:
        base = schedules.method_params("slip", problem, PILOT_EPS)
        algo = schedules.make_method("slip", problem, PILOT_EPS, eta=base["eta"] * factor)
        hits = calls_to_hit(algo, problem, PILOT_RUNS, PILOT_EPS, PILOT_MAX_STEPS, seed)
        q10, q50, q90 = np.quantile(hits.calls, [0.1, 0.5, 0.9])
        rows.append({"C_ETA": schedules.C_ETA * factor, "median_calls": q50, "q10": q10, "q90": q90,
                     "reached": float(np.isfinite(hits.calls).mean()), "runs": PILOT_RUNS})
    return pd.DataFrame(rows)


def pilot_note(table: pd.DataFrame) -> str:
    cells = "; ".join(f"C_ETA = {r.C_ETA:g}: median {r.median_calls:.4g} calls [10-90%: {r.q10:.4g}-{r.q90:.4g}], "
                      f"reached {r.reached:.0%}" for r in table.itertuples())
    return (f"schedule pilot (claims.calibration; SLIP, eps = {PILOT_EPS}, {PILOT_RUNS} seeds, seed stream 100, "
            f"not the claims' seeds): {cells}. Frozen: C_ETA = {schedules.C_ETA:g}, C_BETA = {schedules.C_BETA:g}.")
