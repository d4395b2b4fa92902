"""Every registered algorithm improves the small grammar task; every task improves under one algorithm."""

import pytest
import torch

from ubo import algorithms
from ubo import tasks
from ubo.tasks.tuning import suggested_hyper
from tests.tasks.conftest import DATA, NO_DATA

STEPS = 40
real = pytest.mark.skipif(not DATA, reason=NO_DATA)


@pytest.fixture(scope="module")
def grammar_task():
    return tasks.make_task("hyper_representation", hidden=16, embed_dim=8, per_domain=120)


def _improvement(task, name, steps=STEPS, runs=2, **hyper):
    algo = algorithms.make(name, **{**suggested_hyper(task, name), **hyper})
    trace = algorithms.run(algo, task, runs=runs, steps=steps, seed=0, record_every=steps)
    assert not bool(trace.diverged.any())
    return trace.series


@pytest.mark.parametrize("name", sorted(algorithms.list_algorithms()))
def test_every_algorithm_improves_the_grammar_task(grammar_task, name):
    """Upper loss f(x_T, y_T) and Phi(x_T) both drop below their start in every run."""
    s = _improvement(grammar_task, name)
    assert bool((s["upper_loss"][-1] < s["upper_loss"][0] - 1e-3).all()), s["upper_loss"]
    assert bool((s["phi"][-1] < s["phi"][0] - 5e-3).all()), s["phi"]
    assert bool(torch.isfinite(s["test_accuracy"]).all())


DEEP_AUC_FLAT = ("known finding: the deep AUC start (score layer 0, every score 1/2) is nearly flat, "
                 "||grad Phi(x0)|| = 0.026, so the SGD-type rule alpha = eta / ||grad Phi(x0)|| gives alpha = 12: "
                 "the first step overshoots (StocBiO: Phi 0.160 -> 0.178), then Phi returns to the start's "
                 "p(1-p)m^2 = 0.160 with tightly clustered scores (test AUC 0.84, not collapsed); F2SA oscillates. "
                 "Normalized methods and (MA-)SOBA pass")


@pytest.mark.parametrize("name", ["hyperparam_opt", "hyper_cleaning", "deep_auc", "transformer_fewshot"])
def test_every_task_improves_under_slip(name):
    task = tasks.make_task(name)
    s = _improvement(task, "slip")
    assert bool((s["upper_loss"][-1] < s["upper_loss"][0] - 1e-3).all()), s["upper_loss"]
    assert bool((s["phi"][-1] < s["phi"][0] - 5e-3).all()), s["phi"]
    for key in ("oracle_calls", "grad_phi_norm"):
        assert bool(torch.isfinite(s[key]).all())


def test_hyper_cleaning_weights_clean_examples_more():
    """The learnt weights separate the corrupted training examples from the clean ones."""
    task = tasks.make_task("hyper_cleaning")
    s = _improvement(task, "borep", steps=60)
    assert bool((s["clean_weight_gap"][-1] > 0.02).all()), s["clean_weight_gap"]


def test_bad_names_sizes_and_parameters_raise():
    with pytest.raises(ValueError, match="size must be one of"):
        tasks.make_task("deep_auc", size="huge")
    with pytest.raises(ValueError, match="task name must be one of"):
        tasks.make_task("nope")
    with pytest.raises(ValueError, match="encoder must be one of"):
        tasks.make_task("hyper_representation", encoder="gru")


@real
@pytest.mark.parametrize("name, params, sizes", [
    ("hyper_representation", dict(data="real", per_domain=60, hidden=8, embed_dim=8), (120, 120, 30)),
    ("deep_auc", dict(data="real", limit=400, hidden=8), None),
    ("hyper_cleaning", dict(data="real", limit=300, hidden=8, pretrain_steps=20, pretrain_limit=200),
     (150, 30, 60)),
])
def test_real_data_tasks_build_and_step(name, params, sizes):
    task = tasks.make_task(name, **params)
    if sizes is not None:
        assert tuple(len(task.pools[k]) for k in ("lower", "upper", "test")) == sizes
    s = _improvement(task, "slip", steps=3)
    assert bool(torch.isfinite(s["upper_loss"]).all())


@pytest.mark.parametrize("task_name", sorted(tasks.list_tasks()))
@pytest.mark.parametrize("name", sorted(algorithms.list_algorithms()))
def test_every_algorithm_on_every_task(task_name, name, request):
    """The full sweep (about 40 s on CPU, so in the default suite): Phi decreases for every pair.

    Known finding, kept visible as xfail: on the transformer task the unnormalized SGD-type methods
    (StocBiO, TTSA), started with the same first step length as the normalized ones, collapse the
    encoder (Phi -> log 6, uniform predictions) as the gradient norm grows along the way.
    """
    if task_name == "transformer_fewshot" and name in ("stocbio", "ttsa"):
        request.applymarker(pytest.mark.xfail(strict=True, reason="unnormalized x steps collapse the transformer"))
    if task_name == "transformer_fewshot" and name in ("accbo", "soba"):  # finding of issue 12, kept visible
        request.applymarker(pytest.mark.xfail(strict=True, reason="with BERT's post-LN blocks (the default layout) "
                                              "AccBO drives Phi to log 6 and SOBA raises it within 40 steps at the "
                                              "suggested steps (both decreased Phi with the earlier pre-LN blocks)"))
    if task_name == "transformer_fewshot" and name == "f2sa":  # finding of issue 9, kept visible
        request.applymarker(pytest.mark.xfail(strict=True, reason="F2SA's first-order penalty gradient (two "
                                              "independent grad_x G samples, noise ~ lam sigma) raises Phi at the "
                                              "suggested steps; the midpoint-JVP form (penalty_gradient='jvp') did not"))
    if task_name == "deep_auc" and name in ("f2sa", "stocbio", "ttsa"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=DEEP_AUC_FLAT))
    s = _improvement(tasks.make_task(task_name), name, runs=1)
    assert bool((s["phi"][-1] < s["phi"][0] - 2e-4).all()), s["phi"]  # float32 Phi: noise ~1e-6


@pytest.mark.slow
def test_hyper_representation_learns_the_grammar():
    """SLIP's encoder generalises to the held-out grammar domain (LSTM, 600 steps; measured 0.90). Slow: the
    default suite's learning check is tests/tasks/test_learning.py (the default RNN preset, 400 steps)."""
    task = tasks.make_task("hyper_representation", encoder="lstm", ground_truth=False)
    hyper = {**suggested_hyper(task, "slip"), "gamma": 0.04, "nu": 0.04}
    trace = algorithms.run(algorithms.make("slip", **hyper), task, runs=1, steps=600, seed=0, record_every=600)
    accuracy = trace.series["test_accuracy"][:, 0]
    assert float(accuracy[0]) < 0.6 and float(accuracy[-1]) > 0.8, accuracy
