"""Each claim's pre-declared verdict rule on data with a known answer: it reproduces what holds and
rejects what does not (every rule is shown able to fail)."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from ubo.theory.claims import adambo_theory, advantage, complexity, high_probability, tracking
from ubo.theory.claims.measure import median_slope, running_average
from ubo.theory.claims.result import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, ClaimResult
from ubo.theory.claims.stats import mean_ci
from ubo.theory.tails import fit_tail_models, quantile_table

EPS = [1.0, 0.8, 0.6, 0.45]


def _calls(power: float, runs: int = 64, seed: int = 0):
    """Calls ~ 100 eps^power with 10% multiplicative noise per run."""
    rng = np.random.default_rng(seed)
    return [100 * e**power * rng.lognormal(0, 0.1, runs) for e in EPS]


def test_complexity_rule_reproduces_slope_minus_4_and_rejects_minus_3_and_minus_6():
    assert complexity.rule(median_slope(EPS, _calls(-4)), censored=False) == REPRODUCED
    assert complexity.rule(median_slope(EPS, _calls(-3)), censored=False) == NOT_REPRODUCED
    assert complexity.rule(median_slope(EPS, _calls(-6)), censored=False) == NOT_REPRODUCED


def test_complexity_rule_is_inconclusive_when_censored_or_noisy():
    calls = _calls(-4)
    calls[-1][: 40] = math.inf  # most runs never reach the smallest eps
    fit = median_slope(EPS, calls)
    assert not fit["defined"] and complexity.rule(fit, censored=True) == INCONCLUSIVE
    noisy = [100 * e**-4 * np.random.default_rng(1).lognormal(0, 3.0, 4) for e in EPS]
    assert complexity.rule(median_slope(EPS, noisy), censored=False) == INCONCLUSIVE


def test_median_slope_ci_covers_the_true_slope():
    fit = median_slope(EPS, _calls(-2.5, runs=200))
    assert fit["ci_low"] <= -2.5 <= fit["ci_high"] and fit["ci_high"] - fit["ci_low"] < 0.5


def _fits(values):
    deltas = [d for d in high_probability.DELTAS if len(values) * d >= high_probability.MIN_TAIL]
    table = quantile_table(values, deltas)
    return fit_tail_models(table["delta"], table["q"])


def test_tail_rule_accepts_bounded_tails_and_rejects_a_power_law():
    rng = np.random.default_rng(0)
    assert high_probability.rule(_fits(1 + rng.exponential(size=4000))) == REPRODUCED  # quantile = 1 + log(1/delta)
    assert high_probability.rule(_fits(rng.pareto(1.0, size=4000) + 1)) == NOT_REPRODUCED  # quantile = 1/delta


def test_tail_rule_is_inconclusive_without_resolved_growth():
    values = 1 + 0.001 * np.random.default_rng(0).uniform(size=200)  # quantiles indistinguishable from the median
    deltas = [0.5, 0.2, 0.1, 0.05]
    table = quantile_table(values, deltas)
    table.loc[:, "ci_high"] = table["ci_high"].max()  # overlap by construction
    assert high_probability.rule(fit_tail_models(deltas, table["q"]), table) == INCONCLUSIVE


def test_tracking_fit_needs_both_terms():
    gamma = np.array([0.005, 0.01, 0.03, 0.1, 0.2, 0.4])
    eta = 0.05
    q = 1.5 * np.sqrt(gamma) + 0.8 * eta / gamma
    assert tracking.rule(tracking.fit_two_terms(q, np.sqrt(gamma), eta / gamma)) == REPRODUCED
    flat = 2.0 + 0.01 * np.sqrt(gamma)  # a frozen lower level: error (nearly) independent of gamma
    assert tracking.rule(tracking.fit_two_terms(flat, np.sqrt(gamma), eta / gamma)) == NOT_REPRODUCED
    only_noise = 1.5 * np.sqrt(gamma)
    assert tracking.rule(tracking.fit_two_terms(only_noise, np.sqrt(gamma), eta / gamma)) == NOT_REPRODUCED


def test_adambo_rules():
    assert adambo_theory.rule_lambda((2.0, 1.9, 2.1), (1.0, 0.9, 1.1)) == REPRODUCED
    assert adambo_theory.rule_lambda((1.0, 0.95, 1.05), (1.02, 0.97, 1.07)) == NOT_REPRODUCED
    assert adambo_theory.rule_lambda((1.5, 1.0, 2.0), (1.0, 0.8, 1.2)) == INCONCLUSIVE
    assert adambo_theory.rule_defaults((1.0, 0.9, 1.1), (2.0, 1.9, 2.1)) == REPRODUCED
    assert adambo_theory.rule_defaults((2.0, 1.9, 2.1), (1.0, 0.9, 1.1)) == NOT_REPRODUCED
    assert adambo_theory.rule_neumann([1.0, 0.3, 0.01], [2.0, 0.5, 0.02]) == REPRODUCED
    assert adambo_theory.rule_neumann([1.0, 0.9, 0.8], [2.0, 0.5, 0.02]) == NOT_REPRODUCED  # no decay in Q
    assert adambo_theory.rule_neumann([1.0, 0.3, 0.01], [0.1, 0.05, 0.02]) == NOT_REPRODUCED  # above the bound


def test_advantage_rule_and_diverged_runs_lose():
    assert advantage.rule((1.0, 0.9, 1.1), (2.0, 1.8, 2.2)) == REPRODUCED
    assert advantage.rule((2.0, 1.8, 2.2), (1.0, 0.9, 1.1)) == NOT_REPRODUCED
    assert advantage.rule((1.0, 0.8, 1.2), (1.1, 0.9, 1.3)) == INCONCLUSIVE
    assert mean_ci([1.0, math.nan, 2.0])[0] == math.inf


def test_running_average_is_the_left_riemann_sum_of_the_records():
    g = torch.tensor([[4.0, 4.0], [0.0, 0.0], [0.0, 4.0], [0.0, 0.0], [0.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    trace = SimpleNamespace(step=torch.arange(6), series={"grad_phi_norm": g})
    steps, avg = running_average(trace)
    assert avg[:, 0] == pytest.approx([4, 2, 4 / 3, 1, 0.8]) and avg[:, 1] == pytest.approx([4, 2, 8 / 3, 2, 2.4])


def test_claim_result_rejects_unknown_verdicts():
    with pytest.raises(ValueError, match="verdicts must be among"):
        ClaimResult("k", "t", "s", "p", "r", pd.DataFrame([{"subject": "a", "verdict": "held", "evidence": ""}]),
                    pd.DataFrame())
