"""Hyper-cleaning and HO with the whole RNN classifier in the lower level (lower='rnn', the papers' setting).

The losses are rebuilt from the flat y with torch's own modules (nn.Embedding, nn.RNN, nn.Linear,
F.cross_entropy) on ragged lengths; the oracles are checked against finite differences of the exact
losses and the sampled gradient against autograd of the reference on the drawn batch.
"""

import pytest
import torch
from torch import nn

from ubo import algorithms, tasks
from ubo.tasks.hyper_cleaning import HyperCleaningRNN
from ubo.tasks.hyperparam_opt import HyperparamOptRNN
from ubo.tasks.tuning import suggested_hyper
from tests.tasks.test_reference_models import _ragged

TINY_RNN = dict(lower="rnn", hidden=5, embed_dim=4, limit=60, batch=8, pretrain_steps=0, dtype="float64")


@pytest.fixture(scope="module")
def rnn_tasks():
    out = {name: tasks.make_task(name, layers=2, **TINY_RNN) for name in ("hyper_cleaning", "hyperparam_opt")}
    for task in out.values():
        _ragged(task, "lower")
        _ragged(task, "upper")
    return out


def _point(task, runs=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = task.batch(task.x0, runs) + 0.5 * torch.randn(runs, task.dim_x, generator=gen, dtype=torch.float64)
    y = task.batch(task.y0, runs) + 0.3 * torch.randn(runs, task.dim_y, generator=gen, dtype=torch.float64)
    return x, y, gen


def _reference_ce(task, y_row, pool_name, idx):
    """Per-example CE of one run's classifier from nn.RNN (called with the flat y's blocks through
    torch.func.functional_call, so autograd reaches y), F.embedding and F.linear."""
    prm = {k: v[0] for k, v in task.spec.unflatten(y_row.unsqueeze(0)).items()}
    H, layers = prm["w_hh"].shape[0], task.params["layers"]
    rnn = nn.RNN(prm["w_ih"].shape[0], H, num_layers=layers, batch_first=True).to(torch.float64)
    weights = {}
    for k in range(layers):
        s = "" if k == 0 else str(k)
        weights.update({f"weight_ih_l{k}": prm[f"w_ih{s}"].T, f"weight_hh_l{k}": prm[f"w_hh{s}"].T,
                        f"bias_ih_l{k}": prm[f"b{s}"][0], f"bias_hh_l{k}": torch.zeros(H, dtype=torch.float64)})
    pool = task.pools[pool_name]
    tokens, lengths = pool.tokens[idx], pool.lengths[idx]
    states, _ = torch.func.functional_call(rnn, weights, (nn.functional.embedding(tokens, prm["embedding"]),))
    feats = torch.stack([states[i, : int(n)].amax(0) for i, n in enumerate(lengths)])
    logits = nn.functional.linear(feats, prm["head"][:, :H], prm["head"][:, H])
    return nn.functional.cross_entropy(logits, pool.labels[idx], reduction="none")


def _reference_penalty(task, x_row, y_row):
    prm = task.spec.unflatten(y_row.unsqueeze(0))
    if isinstance(task, HyperparamOptRNN):
        lam = task.mu0 + task.lam_max * torch.sigmoid(x_row)
        return 0.5 * sum(lam[b] * (prm[name] ** 2).sum() for b, name in enumerate(task.spec.shapes))
    return 0.5 * task.mu * (y_row ** 2).sum()


def _reference_losses(task, x_row, y_row):
    """(g, f) of one run on the whole pools (uniform weights, as the uniform samplers' expectation)."""
    lower = torch.arange(len(task.pools["lower"]))
    scale = torch.sigmoid(x_row) if isinstance(task, HyperCleaningRNN) else torch.ones(len(lower), dtype=x_row.dtype)
    g = (scale * _reference_ce(task, y_row, "lower", lower)).mean() + _reference_penalty(task, x_row, y_row)
    f = _reference_ce(task, y_row, "upper", torch.arange(len(task.pools["upper"]))).mean()
    return g, f


@pytest.mark.parametrize("name", ["hyper_cleaning", "hyperparam_opt"])
def test_losses_match_torch_modules(rnn_tasks, name):
    task = rnn_tasks[name]
    assert task.has_ground_truth is False and task.params["layers"] == 2
    x, y, _ = _point(task)
    g, f = task.g(x, y), task.f(x, y)
    for r in range(2):
        g_ref, f_ref = _reference_losses(task, x[r], y[r])
        torch.testing.assert_close(g[r], g_ref.detach(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(f[r], f_ref.detach(), rtol=1e-10, atol=1e-12)


def _fd(fn, point, direction, h=1e-6):
    return (fn(point + h * direction) - fn(point - h * direction)) / (2 * h)


@pytest.mark.parametrize("name", ["hyper_cleaning", "hyperparam_opt"])
def test_oracles_match_finite_differences(rnn_tasks, name):
    task = rnn_tasks[name]
    x, y, gen = _point(task, seed=1)
    u = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    v = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    gx, gy = task.grad_f(x, y)
    assert float(gx.abs().max()) == 0.0  # f does not depend on x in either task
    torch.testing.assert_close((gy * v).sum(1), _fd(lambda t: task.f(x, t), y, v), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close((task.grad_y_g(x, y) * v).sum(1), _fd(lambda t: task.g(x, t), y, v),
                               rtol=1e-6, atol=1e-9)
    torch.testing.assert_close((task.grad_x_g(x, y) * u).sum(1), _fd(lambda t: task.g(t, y), x, u),
                               rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(task.hvp_yy(x, y, v), _fd(lambda t: task.grad_y_g(x, t), y, v), rtol=1e-5, atol=1e-8)
    torch.testing.assert_close((task.jvp_xy(x, y, v) * u).sum(1),
                               _fd(lambda t: (task.grad_y_g(t, y) * v).sum(1), x, u), rtol=1e-5, atol=1e-8)
    hvp, jvp = task.oracle(runs=2, seed=4).hvp_jvp(x, y, v)
    draw = task.oracle(runs=2, seed=4).rng.next()
    torch.testing.assert_close(hvp, task.sample_hvp(x, y, v, draw))
    torch.testing.assert_close(jvp, task.sample_jvp(x, y, v, draw))


@pytest.mark.parametrize("name", ["hyper_cleaning", "hyperparam_opt"])
def test_sampled_gradient_is_the_reference_gradient_on_the_drawn_batch(rnn_tasks, name):
    task = rnn_tasks[name]
    x, y, _ = _point(task, runs=1, seed=2)
    draw = task.oracle(runs=1, seed=3).rng.next()
    idx, _ = task._batch("lower", draw)
    yr = y[0].clone().requires_grad_(True)
    scale = torch.sigmoid(x[0])[idx[0]] if name == "hyper_cleaning" else 1.0
    loss = (scale * _reference_ce(task, yr, "lower", idx[0])).mean() + _reference_penalty(task, x[0], yr)
    (ref,) = torch.autograd.grad(loss, yr)
    torch.testing.assert_close(task.sample_grad_g(x, y, draw)[0], ref)


def test_measured_curvature_is_the_top_of_the_lower_hessian():
    task = tasks.make_task("hyper_cleaning", **TINY_RNN)  # unragged: the pools the constants were measured on
    n = task.dim_y  # every column in one batched call: run j gets direction e_j
    H = task.hvp_yy(task.batch(task.x0, n), task.batch(task.y0, n), torch.eye(n, dtype=torch.float64))
    top = float(torch.linalg.eigvalsh((H + H.T) / 2).abs().max())
    assert 0.9 * top <= task.constants.l_g1 <= top * (1 + 1e-9) + task.mu


def test_lower_option_builds_the_right_model_and_refuses_ground_truth(rnn_tasks):
    task = rnn_tasks["hyperparam_opt"]
    assert isinstance(task, HyperparamOptRNN) and task.dim_x == len(task.spec.shapes)
    assert "lower='rnn'" in repr(task) and repr(task).startswith("make_task('hyperparam_opt', size='small'")
    with pytest.raises(ValueError, match="no ground truth"):
        task.y_star(task.batch(task.x0, 1))
    with pytest.raises(ValueError, match="lower must be one of"):
        tasks.make_task("hyper_cleaning", lower="mlp", pretrain_steps=0, limit=60)
    with pytest.raises(ValueError, match="layers > 1 needs lower='rnn'"):
        tasks.make_task("hyperparam_opt", layers=2, pretrain_steps=0, limit=60)
    assert set(task.metrics(task.batch(task.x0, 1), task.batch(task.y0, 1))) == {
        "upper_loss", "test_accuracy", "select_accuracy"}
    from ubo.tasks.iterate_smoothness import iterate_smoothness

    algo = algorithms.make("slip", **suggested_hyper(task, "slip"))
    frame = iterate_smoothness(task, algo, steps=2, every=2, runs=1, progress=False)
    assert set(frame["block"]) == {"f_y", "g_y"}  # no ground truth: no Phi block; f does not depend on x


@pytest.mark.slow
@pytest.mark.parametrize("name, margin", [("hyper_cleaning", 0.03), ("hyperparam_opt", 0.2)])
def test_slip_learns_with_the_rnn_in_the_lower_level(name, margin):
    """Default small preset with lower='rnn' (pre-trained encoder start, head at zero), 200 SLIP steps, against the
    trivial baselines on held-out data: the majority class, and the same run with x frozen at x0 (eta = 1e-9:
    the lower level alone, uniform weights / the start's penalties). Measured: HC 0.915 against 0.865 frozen;
    HO 0.920 against 0.465 frozen (the start's penalty 0.5 per block shrinks the classifier to chance)."""
    task = tasks.make_task(name, lower="rnn")

    def final(eta):
        algo = algorithms.make("slip", **suggested_hyper(task, "slip", eta=eta))
        trace = algorithms.run(algo, task, runs=1, steps=200, seed=0, record_every=100)
        assert not bool(trace.diverged.any())
        return trace

    bilevel, frozen = final(0.3), final(1e-9)
    labels = task.pools["test"].labels
    majority = float(torch.bincount(labels).max()) / len(labels)
    acc = float(bilevel.final("test_accuracy")[0])
    assert acc > majority + 0.2 and acc > float(frozen.final("test_accuracy")[0]) + margin
    if name == "hyper_cleaning":
        assert float(bilevel.final("clean_weight_gap")[0]) > 0.2


def test_the_reference_catches_planted_changes(rnn_tasks, monkeypatch):
    """Pooling over padding (in the shared encoder) and a penalty that ignores x (every block at mu0) must
    both move the losses away from the reference."""
    from ubo.tasks import encoders

    task = rnn_tasks["hyperparam_opt"]
    x, y, _ = _point(task, runs=1, seed=5)
    g_ref, f_ref = _reference_losses(task, x[0], y[0])
    real = encoders.recurrent
    monkeypatch.setattr(encoders, "recurrent", lambda p, tokens, lengths, cell, pooling="max": real(
        p, tokens, torch.full_like(lengths, tokens.shape[-1]), cell, pooling))
    assert not torch.allclose(task.f(x, y)[0], f_ref, rtol=1e-6, atol=1e-9)
    monkeypatch.setattr(encoders, "recurrent", real)
    monkeypatch.setattr(task, "penalty", lambda xx: torch.full((xx.shape[0], task.dim_y), task.mu0,
                                                               dtype=xx.dtype))
    assert not torch.allclose(task.g(x, y)[0], g_ref, rtol=1e-6, atol=1e-9)
    monkeypatch.undo()
    torch.testing.assert_close(task.g(x, y)[0], g_ref.detach(), rtol=1e-10, atol=1e-12)


def test_compare_refuses_the_rnn_lower_level_before_any_run(rnn_tasks):
    """The comparison's single-level baselines need frozen features; lower='rnn' is named in the error."""
    from ubo.tasks.compare import run_grid
    with pytest.raises(ValueError, match="lower='head'"):
        run_grid(rnn_tasks["hyper_cleaning"], methods=("slip",), etas=(0.3,), seeds=1, steps=1)
