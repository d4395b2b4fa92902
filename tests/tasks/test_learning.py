"""Every default preset learns: 400 SLIP steps stay finite and beat the trivial baselines on held-out data.

Trivial baselines: the majority class of the test pool, and the bilevel start (x0 with y*(x0), the head
fitted to the start's features). Earlier presets failed exactly here (the exponential HO penalty
diverged after 150-300 steps; deep AUC collapsed), while the 40-step "Phi decreases" checks passed.
"""

import pytest
import torch

from ubo import algorithms
from ubo import tasks
from ubo.tasks.compare import baselines
from ubo.tasks.tuning import suggested_hyper

STEPS = 400


def _slip(task, steps=STEPS):
    algo = algorithms.make("slip", **suggested_hyper(task, "slip"))
    return algorithms.run(algo, task, runs=1, steps=steps, seed=0, record_every=steps)


def _trivial(task) -> float:
    """The better of the majority class and the bilevel start on the test pool."""
    base = baselines(task, seeds=1, steps=0, lrs=())
    return float(base[base["method"].isin(["majority", "start: y*(x0)"])]["test"].max())


@pytest.mark.parametrize("name, margin", [("hyper_cleaning", 0.01), ("hyperparam_opt", 0.005),
                                          ("hyper_representation", 0.05)])
def test_slip_beats_the_trivial_baselines_on_the_default_preset(name, margin):
    task = tasks.make_task(name)
    trace = _slip(task)
    assert not bool(trace.diverged.any())
    final = float(trace.final("test_accuracy")[0])
    assert final > _trivial(task) + margin, (final, _trivial(task))


def test_transformer_beats_the_majority_class():
    """TREC (6 classes, 72 test questions): the start's random encoder is already above chance, so the
    check is against the majority class (1/6) with a margin of 2 standard errors."""
    task = tasks.make_task("transformer_fewshot")
    trace = _slip(task)
    assert not bool(trace.diverged.any())
    labels = task.pools["test"].labels
    majority = float(torch.bincount(labels).max()) / len(labels)
    final = float(trace.final("test_accuracy")[0])
    assert final > majority + 2 * (majority * (1 - majority) / len(labels)) ** 0.5, final


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known: the small grammar deep AUC preset does not generalise (test AUC "
                                        "about 0.5 even for single-level training); use data='real'")
def test_deep_auc_default_preset_beats_chance():
    task = tasks.make_task("deep_auc")
    trace = _slip(task)
    assert not bool(trace.final("collapsed").bool().any())
    assert float(trace.final("test_auc")[0]) > 0.6
