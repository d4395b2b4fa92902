"""Tail quantiles, their exact CIs, tail-model fits and rate slopes on data with known answers."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ubo.theory.rates import noise_aware_schedule, slope, slope_with_ci
from ubo.theory.tails import DELTAS, dkw_halfwidth, fit_tail_models, heavy_tail_flag, quantile_ci, quantile_table


def test_quantile_ci_equals_scipy_quantile_test():
    x = np.random.default_rng(0).exponential(size=1000)
    q, lo, hi = quantile_ci(x, 0.01)
    ci = stats.quantile_test(x, q=q, p=0.99).confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert lo <= q <= hi


def test_quantile_ci_covers_the_true_quantile():
    rng = np.random.default_rng(1)
    true = -math.log(0.1)  # exponential (0.9)-quantile
    hits = 0
    for _ in range(300):
        _, lo, hi = quantile_ci(rng.exponential(size=200), 0.1)
        hits += lo <= true <= hi
    assert hits / 300 >= 0.92  # nominal 95%, exact intervals are conservative


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=5, max_size=300))
def test_quantiles_and_ci_ends_monotone_in_delta(values):
    table = quantile_table(values)
    assert list(table["delta"]) == list(DELTAS)
    for col in ("q", "ci_low", "ci_high"):
        v = table[col].to_numpy()
        assert np.all(v[1:] >= v[:-1])  # delta decreasing -> quantile increasing (inf ends allowed)
    assert np.all(table["ci_low"] <= table["q"]) and np.all(table["q"] <= table["ci_high"])


def test_tail_models_identify_light_and_heavy_tails():
    rng = np.random.default_rng(2)
    expo = fit_tail_models(DELTAS, -np.log(np.array(DELTAS))).set_index("model")
    assert expo.loc["log", "log_rmse"] < 1e-10 and expo.loc["log", "b"] == pytest.approx(1.0)
    pareto = fit_tail_models(DELTAS, np.array(DELTAS) ** -0.5).set_index("model")
    assert pareto.loc["power", "b"] == pytest.approx(0.5)
    assert not heavy_tail_flag(rng.uniform(size=2000))["heavy"]
    assert not heavy_tail_flag(np.abs(rng.normal(size=2000)))["heavy"]
    assert heavy_tail_flag(np.abs(rng.standard_t(1.5, size=2000)))["heavy"]
    assert heavy_tail_flag(np.ones(100))["best_model"] == "degenerate"


def test_dkw_halfwidth_reference_values():
    assert dkw_halfwidth(1000) == pytest.approx(0.043, abs=5e-4)


def test_slope_ci_contains_the_planted_slope():
    rng = np.random.default_rng(3)
    Ts = [100, 200, 400, 800, 1600]
    samples = [T**-0.25 * rng.exponential(size=400) for T in Ts]
    fit = slope_with_ci(Ts, samples)
    assert fit["ci_low"] <= fit["slope"] <= fit["ci_high"]
    assert abs(fit["slope"] + 0.25) < 0.1
    assert slope(Ts, [T**-0.5 for T in Ts]) == pytest.approx(-0.5)


def test_noise_aware_schedule_orders():
    a, b = noise_aware_schedule(100, 1.0, 4.0), noise_aware_schedule(10_000, 1.0, 4.0)
    assert (1 - b["beta"]) / (1 - a["beta"]) == pytest.approx(0.1)           # 1-beta ~ T^-1/2
    assert b["eta"] / a["eta"] == pytest.approx(100**-0.75)                   # eta ~ T^-3/4
    assert noise_aware_schedule(100, 0.0, 4.0)["beta"] == 0.0                 # deterministic control
    with pytest.raises(ValueError, match="sigma"):
        noise_aware_schedule(10, -1.0, 4.0)
