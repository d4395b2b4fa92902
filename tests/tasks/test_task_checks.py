"""Collapse detection (deep AUC), the bounded HO penalty, rebuildable reprs, parameter listing."""

import pytest
import torch

from ubo import tasks
from ubo.tasks import make_task  # noqa: F401  (eval of a repr needs the name)


@pytest.fixture(scope="module")
def auc_task():
    return tasks.make_task("deep_auc", data="grammar", hidden=6, embed_dim=5, limit=200, score_init=1.0,
                           dtype="float64")


def _with_score_bias(task, bias: float) -> torch.Tensor:
    x = task.x0.clone()
    a, b = task.spec.offsets["score"]
    x[b - 1] = bias
    return x.unsqueeze(0)


def test_collapse_detector_flags_a_planted_collapse_and_not_the_start(auc_task):
    """A score bias of -40 (or +40) saturates every score at 0 (1), the AUC-margin attractor: flagged. Not
    flagged: random score weights, and the default start (score weights 0: every score 1/2, flat but not
    saturated, the trivial AUC 1/2)."""
    flat = tasks.make_task("deep_auc", data="grammar", hidden=6, embed_dim=5, limit=200, dtype="float64")
    points = torch.cat((auc_task.x0.unsqueeze(0), _with_score_bias(auc_task, -40.0),
                        _with_score_bias(auc_task, 40.0)))
    m = auc_task.metrics(points, auc_task.y_star(points))
    assert m["collapsed"].tolist() == [0.0, 1.0, 1.0], m["score_spread"]
    assert float(m["score_spread"][1]) < 1e-6 < float(m["score_spread"][0])
    start = flat.metrics(flat.x0.unsqueeze(0), flat.y_star(flat.x0.unsqueeze(0)))
    assert float(start["score_spread"][0]) < 1e-12 and float(start["collapsed"][0]) == 0.0
    assert float(start["test_auc"][0]) == 0.5


def test_deep_auc_starts_with_centres_at_the_class_means(auc_task):
    """At x0 the centres are the class means of the training scores, so the square terms' x-gradient
    in the centres vanishes there (no pull of every score towards 0)."""
    x = auc_task.x0.unsqueeze(0)
    gx, _ = auc_task.grad_f(x, auc_task.y_star(x))
    a, b = auc_task.spec.offsets["centres"]
    assert float(gx[0, a:b].abs().max()) < 1e-12
    assert float(auc_task.x0[a:b].min()) > 0.0


def test_hyperparam_opt_penalty_and_curvature_stay_bounded():
    """lam(x) = mu0 + lam_max sigmoid(x) stays in [mu0, mu0 + lam_max] for any x, so the lower curvature
    is bounded by the task's certified l_g1 even far from x0."""
    task = tasks.make_task("hyperparam_opt", hidden=5, embed_dim=4, limit=60, batch=8, pretrain_steps=0,
                           dtype="float64")
    x = torch.stack((task.x0, task.x0 + 50.0, task.x0 - 50.0))
    lam = task.penalty(x)
    assert float(lam.min()) >= task.mu0 and float(lam.max()) <= task.mu0 + task.lam_max + 1e-12
    top = torch.linalg.eigvalsh(task.hessian_yy(x, task.y_star(x)))[:, -1]
    assert bool((top <= task.constants.l_g1).all()), (top, task.constants.l_g1)


@pytest.mark.parametrize("name, params", [("hyper_cleaning", dict(hidden=5, limit=60, pretrain_steps=0)),
                                          ("transformer_fewshot", dict(data="grammar", width=4, per_class=12))])
def test_repr_rebuilds_the_task(name, params):
    task = tasks.make_task(name, **params)
    again = eval(repr(task))
    assert repr(again) == repr(task) and again.params == task.params
    assert torch.equal(again.x0, task.x0)
    assert "grammar" in task.data_source or "TREC" in task.data_source


def test_task_parameters_are_the_keys_make_task_accepts():
    for name in tasks.list_tasks():
        params = tasks.task_parameters(name)
        assert "seed" in params and "dtype" in params
    with pytest.raises(ValueError, match="task name must be one of"):
        tasks.task_parameters("nope")


def test_adapted_accuracy_is_one_on_separable_features_and_chance_on_constant_ones(monkeypatch):
    """Test-time adaptation fits a head on a few held-out examples: features that carry the label give
    accuracy 1, constant features give at most the majority rate of the scored examples."""
    task = tasks.make_task("hyper_representation", hidden=4, embed_dim=4, per_domain=60, dtype="float64")
    x = task.x0.unsqueeze(0)
    labels = task.pools["test"].labels

    def separable(x, pool, idx):
        return (2.0 * labels[idx] - 1.0).unsqueeze(-1).expand(*idx.shape, 4).to(task.dtype)

    monkeypatch.setattr(task, "features", separable)
    assert float(task.adapted_accuracy(x)[0]) == 1.0
    monkeypatch.setattr(task, "features", lambda x, pool, idx: torch.ones(*idx.shape, 4, dtype=task.dtype))
    majority = float(torch.bincount(labels).max()) / len(labels)
    assert float(task.adapted_accuracy(x)[0]) <= majority + 0.05
