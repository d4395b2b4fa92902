"""Per-run statistics from batched traces: the running stationarity average, calls to reach eps, slopes.

    running average   A_r(t) = (1/t) sum_{s<t} ||grad Phi(x_s)||, the measure all three theorems bound,
                      from a trace recorded every k <= T/RECORDS steps (a left Riemann sum; the upper
                      iterate moves by at most eta per step, so the series is smooth between records)
    (claim 1's calls to eps are counted at every iterate by claims.hitting)
    slope             least squares of log median_r C_r(eps) on log eps, with a percentile bootstrap
                      over runs (runs resampled independently at each eps); medians of censored samples
                      are +inf when more than half are censored, which makes the slope undefined
"""

from __future__ import annotations

import math

import numpy as np

from ubo import algorithms

RECORDS = 256


def run_batched(algo, problem, runs: int, steps: int, seed: int = 0, records: int = RECORDS, **kw):
    """All seeds of one configuration in one batched run, recorded about ``records`` times."""
    return algorithms.run(algo, problem, runs=runs, steps=steps, seed=seed,
                          record_every=max(1, steps // records), progress=False, **kw)


def running_average(trace) -> tuple[np.ndarray, np.ndarray]:
    """(steps (K-1,), A (K-1, R)): the running average of ||grad Phi|| at each recorded t >= 1."""
    step = trace.step.cpu().numpy()
    g = trace.series["grad_phi_norm"].cpu().numpy()
    widths = np.diff(step)[:, None]
    return step[1:], np.cumsum(g[:-1] * widths, axis=0) / step[1:, None]


def final_average(trace) -> np.ndarray:
    """A_r(T) per run (NaN for diverged runs)."""
    avg = running_average(trace)[1][-1].copy()
    avg[trace.diverged.cpu().numpy()] = math.nan
    return avg


def _slope(logx: np.ndarray, logy: np.ndarray) -> float:
    cx = logx - logx.mean()
    return float(((logy - logy.mean()) * cx).sum() / (cx**2).sum())


def median_slope(xs, samples, resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict:
    """Slope of log median(samples[i]) on log xs[i] with a percentile bootstrap CI over runs.

    Returns {"slope", "ci_low", "ci_high", "defined"}; ``defined`` is False (and the numbers NaN) when
    some median is infinite (over half the runs censored) at the point estimate.
    """
    xs = np.asarray(xs, dtype=float)
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if len(arrays) != xs.size or xs.size < 2 or any(a.size < 2 for a in arrays):
        raise ValueError("need >= 2 x values and >= 2 runs per x")
    logx = np.log(xs)
    med = np.array([np.median(a) for a in arrays])
    if not np.all(np.isfinite(med)) or np.any(med <= 0):
        return {"slope": math.nan, "ci_low": math.nan, "ci_high": math.nan, "defined": False}
    rng = np.random.default_rng(seed)
    boot = np.empty((resamples, xs.size))
    for i, a in enumerate(arrays):
        boot[:, i] = np.median(a[rng.integers(0, a.size, size=(resamples, a.size))], axis=1)
    ok = np.all(np.isfinite(boot) & (boot > 0), axis=1)
    cx = logx - logx.mean()
    logb = np.log(boot[ok])
    slopes = ((logb - logb.mean(axis=1, keepdims=True)) @ cx) / (cx**2).sum()
    if ok.mean() < 0.95:  # too many resamples with an infinite median: treat the CI as unbounded
        lo, hi = -math.inf, math.inf
    else:
        lo, hi = np.quantile(slopes, [(1 - confidence) / 2, (1 + confidence) / 2])
    return {"slope": _slope(logx, np.log(med)), "ci_low": float(lo), "ci_high": float(hi), "defined": True}
