"""High-probability statements from repeated runs: tail quantiles, their exact confidence
intervals, and the shape of the tail in delta (order-statistic confidence intervals; Hill, Ann. Statist. 3(5), 1975).

    q_hat(1-delta)  = the ceil((1-delta) R)-th order statistic of the per-run statistic S_r
    exact CI        : #(S_r <= q_(1-delta)) ~ Binomial(R, 1-delta); ranks from its alpha/2, 1-alpha/2 quantiles
    fits            : q = a + b log(1/delta)          (bounded / sub-exponential: log(1/delta) bounds)
                      q = a + b sqrt(log(1/delta))    (sub-Gaussian norms)
                      log q = a + p log(1/delta)      (power law in 1/delta: the heavy-tail signature)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

DELTAS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005)


def _check(values: np.ndarray, delta: float) -> None:
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {values.shape}")
    if not (0 < delta < 1):
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")


def quantile_ci(values, delta: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """(q_hat, low, high): the empirical (1-delta)-quantile and an exact distribution-free CI.

    The CI is [S_(l), S_(u)] with l, u the binomial ranks; either end is +/-inf when R is too small
    for that side (e.g. the upper end needs R >= ln(2/alpha)/delta).
    """
    values = np.sort(np.asarray(values, dtype=float))
    _check(values, delta)
    if not (0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n = values.size
    p = 1.0 - delta
    rank = max(1, math.ceil(p * n))  # 1-based
    alpha = 1.0 - confidence
    binom = stats.binom(n, p)
    lo_rank = int(binom.ppf(alpha / 2))          # P(B < lo_rank) <= alpha/2 -> S_(lo_rank) is a lower end
    hi_rank = int(binom.ppf(1 - alpha / 2)) + 1  # P(B >= hi_rank) <= alpha/2
    low = values[lo_rank - 1] if lo_rank >= 1 else -math.inf
    high = values[hi_rank - 1] if hi_rank <= n else math.inf
    return float(values[rank - 1]), float(low), float(high)


def quantile_table(values, deltas=DELTAS, confidence: float = 0.95) -> pd.DataFrame:
    """One row per delta: delta, q (the quantile), ci_low, ci_high, runs."""
    rows = []
    for delta in deltas:
        q, lo, hi = quantile_ci(values, delta, confidence)
        rows.append({"delta": delta, "q": q, "ci_low": lo, "ci_high": hi, "runs": len(values)})
    return pd.DataFrame(rows)


def fit_tail_models(deltas, quantiles) -> pd.DataFrame:
    """Least-squares fits of the three tail models; rows: model, a, b, log_rmse.

    ``log_rmse`` is the root-mean-square error of log q (relative error), so the three models are
    compared on one scale; a model predicting a non-positive quantile scores inf. Needs >= 3 deltas
    and positive quantiles.
    """
    deltas = np.asarray(deltas, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    if deltas.shape != q.shape or deltas.size < 3:
        raise ValueError(f"deltas and quantiles must be equal-length arrays of >= 3 values, got {deltas.size}, {q.size}")
    if not np.all(q > 0):
        raise ValueError("quantiles must be positive to compare tail models")
    L = np.log(1.0 / deltas)
    rows = []
    for model, feature in (("log", L), ("sqrt_log", np.sqrt(L))):
        b, a = np.polyfit(feature, q, 1)
        pred = a + b * feature
        err = np.inf if np.any(pred <= 0) else float(np.sqrt(np.mean((np.log(pred) - np.log(q)) ** 2)))
        rows.append({"model": model, "a": a, "b": b, "log_rmse": err})
    p, a = np.polyfit(L, np.log(q), 1)
    rows.append({"model": "power", "a": a, "b": p, "log_rmse": float(np.sqrt(np.mean((a + p * L - np.log(q)) ** 2)))})
    return pd.DataFrame(rows)


def hill_tail_index(values) -> float:
    """Hill estimator of the tail index on the top 5% (at least 10) positive values (inf: no tail)."""
    values = np.sort(np.asarray(values, dtype=float))
    values = values[values > 0]
    k = max(10, values.size // 20)
    if values.size <= k + 1:
        return math.nan
    hill = float(np.mean(np.log(values[-k:])) - math.log(values[-k - 1]))
    return math.inf if hill <= 0 else 1.0 / hill


def heavy_tail_flag(values, deltas=DELTAS) -> dict:
    """Flag a heavy tail: the power law in 1/delta fits the (1-delta)-quantiles better than both
    log(1/delta) models. Also reports the Hill tail index (small = heavy) as a second opinion.
    Quantiles that do not move with delta are "degenerate" (never heavy).
    Returns {"heavy", "best_model", "tail_index"}.
    """
    table = quantile_table(values, deltas)
    spread = float(table["q"].max() - table["q"].min())
    if spread <= 1e-9 * max(float(table["q"].abs().max()), 1e-300):
        return {"heavy": False, "best_model": "degenerate", "tail_index": hill_tail_index(values)}
    fits = fit_tail_models(table["delta"], table["q"]).set_index("model")["log_rmse"]
    best = str(fits.idxmin())
    return {"heavy": best == "power", "best_model": best, "tail_index": hill_tail_index(values)}


def dkw_halfwidth(runs: int, confidence: float = 0.95) -> float:
    """Half-width of the simultaneous DKW-Massart band for the whole CDF: sqrt(ln(2/alpha) / (2R))."""
    return math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * runs))
