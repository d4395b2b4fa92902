"""The comparison's selection and verdict rules on planted tables, and the meta-learning baselines' columns."""

import math

import pandas as pd
import pytest

from ubo import tasks
from ubo.tasks.compare import baselines, interval, select_best, verdict


def _grid(rows):
    return pd.DataFrame([dict(method=m, eta=e, seed=s, select=sel, test=t, adapted=a, upper_loss=0.0,
                              diverged=False, seconds=1.0) for m, e, s, sel, t, a in rows])


def test_select_best_chooses_eta_on_select_never_on_test():
    """Planted: eta 1 is best on 'test' but worse on 'select'; the rule must pick eta 0.3."""
    grid = _grid([("slip", 0.3, s, 0.80, 0.70 + 0.01 * s, 0.6) for s in range(4)]
                 + [("slip", 1.0, s, 0.70, 0.95, 0.9) for s in range(4)])
    best = select_best(grid)
    assert float(best["eta"].iloc[0]) == 0.3
    mean, low, high = interval([0.70, 0.71, 0.72, 0.73])
    assert best["test"].iloc[0] == pytest.approx(mean) and best["low"].iloc[0] == pytest.approx(low)
    assert best["adapted"].iloc[0] == pytest.approx(0.6)


@pytest.mark.parametrize("ours, theirs, expected", [
    ((0.90, 0.91, 0.90, 0.91), (0.80, 0.81, 0.80, 0.81), "yes at this scale"),
    ((0.85, 0.95, 0.80, 0.90), (0.84, 0.86, 0.85, 0.85), "not shown"),
    ((0.80, 0.81, 0.80, 0.81), (0.90, 0.91, 0.90, 0.91), "no at this scale"),
])
def test_verdict_needs_the_intervals_to_separate(ours, theirs, expected):
    grid = _grid([("slip", 0.3, s, 0.5, v, math.nan) for s, v in enumerate(ours)]
                 + [("ma_soba", 0.3, s, 0.5, v, math.nan) for s, v in enumerate(theirs)])
    base = pd.DataFrame([{"method": "majority", "eta": math.nan, "test": 0.5, "per_seed": ""}])
    assert verdict(select_best(grid), base).startswith(expected)


def test_verdict_on_the_adapted_metric_is_separate():
    """SLIP wins zero-shot but loses after adaptation to a baseline that only has the adapted value."""
    grid = _grid([("slip", 0.3, s, 0.5, 0.90 + 0.001 * s, 0.70 + 0.001 * s) for s in range(4)]
                 + [("ma_soba", 0.3, s, 0.5, 0.60 + 0.001 * s, 0.72 + 0.001 * s) for s in range(4)])
    base = pd.DataFrame([{"method": "start: y*(x0)", "eta": math.nan, "test": 0.5, "adapted": 0.95, "per_seed": ""}])
    best = select_best(grid)
    assert verdict(best, base).startswith("yes")
    assert verdict(best, base, "adapted").startswith("no at this scale")
    assert "start: y*(x0)" in verdict(best, base, "adapted")


def test_meta_learning_baselines_report_adaptation_and_all_training_data():
    task = tasks.make_task("hyper_representation", hidden=4, embed_dim=4, per_domain=60)
    base = baselines(task, seeds=2, steps=3, lrs=(1e-2,)).set_index("method")
    assert {"joint head at x0 (all training data)", "joint Adam (all training data)"} <= set(base.index)
    assert 0.0 <= base.loc["start: y*(x0)", "adapted"] <= 1.0
    assert 0.0 <= base.loc["joint Adam (all training data)", "adapted"] <= 1.0
    assert len(base.loc["joint Adam (all training data)", "adapted_per_seed"].split()) == 2
