"""Small statistics shared by the claims: a mean with its normal-approximation CI, and CI comparisons."""

from __future__ import annotations

import math

import numpy as np


def mean_ci(values, z: float = 1.96) -> tuple[float, float, float]:
    """(mean, low, high) with mean +/- z s / sqrt(R); a non-finite value (a diverged run) makes all inf."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        raise ValueError(f"need >= 2 values for a CI, got {v.size}")
    if not np.all(np.isfinite(v)):
        return math.inf, math.inf, math.inf
    m, half = float(v.mean()), z * float(v.std(ddof=1)) / math.sqrt(v.size)
    return m, m - half, m + half


def below(a: tuple, b: tuple) -> bool:
    """CI a lies entirely below CI b (a's high < b's low)."""
    return a[2] < b[1]
