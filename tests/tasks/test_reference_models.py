"""Each task's forward pass against standard torch modules (nn.RNN, nn.LSTM, nn.TransformerEncoderLayer).

The task tests elsewhere compare a task with itself (finite differences of its own losses), so a
change of the model (pooling over padding, a swapped LSTM gate order) passes them. Here the task's
features are rebuilt from its flat parameters with torch's own modules, and pooled with an explicit
loop over each sequence's true length.
"""

import pytest
import torch
from torch import nn

from ubo import tasks
from ubo.tasks import encoders
from ubo.tasks.base import Pool
from tests.tasks.conftest import DATA, NO_DATA


def _pool(states: torch.Tensor, lengths: torch.Tensor, pooling: str) -> torch.Tensor:
    rows = [states[i, : int(n)] for i, n in enumerate(lengths)]
    return torch.stack([r.amax(0) if pooling == "max" else r.mean(0) for r in rows])


def _recurrent_reference(prm: dict, tokens, lengths, cell: str, pooling: str) -> torch.Tensor:
    """Features of one run (prm without the run dimension) from nn.RNN / nn.LSTM."""
    e = prm["w_ih"].shape[0]
    H = prm["w_hh"].shape[0]
    layers = sum(1 for k in prm if k.startswith("w_hh"))
    module = (nn.LSTM if cell == "lstm" else nn.RNN)(e, H, num_layers=layers, batch_first=True).to(torch.float64)
    for k in range(layers):
        s = "" if k == 0 else str(k)
        w_ih, w_hh, b = prm[f"w_ih{s}"].T, prm[f"w_hh{s}"].T, prm[f"b{s}"][0]
        if cell == "lstm":  # ours: (i, f, o, u) chunks; torch: (i, f, g, o) with g the cell candidate
            order = [0, 1, 3, 2]
            w_ih, w_hh, b = (torch.cat([t.chunk(4, 0)[j] for j in order]) for t in (w_ih, w_hh, b))
        with torch.no_grad():
            getattr(module, f"weight_ih_l{k}").copy_(w_ih)
            getattr(module, f"weight_hh_l{k}").copy_(w_hh)
            getattr(module, f"bias_ih_l{k}").copy_(b)
            getattr(module, f"bias_hh_l{k}").zero_()
    with torch.no_grad():
        states, _ = module(prm["embedding"][tokens])
    return _pool(states, lengths, pooling)


def _transformer_reference(prm: dict, tokens, lengths, heads: int, layout: str) -> torch.Tensor:
    """Features of one run from nn.TransformerEncoderLayer (norm_first=False, bias=True for 'post', BERT's
    layout; norm_first=True, bias=False for 'pre'); LayerNorm gains are stored as offsets from 1."""
    post = layout == "post"
    width = prm["embedding"].shape[1]
    layers = sum(1 for k in prm if k.startswith("qkv") and not k.startswith("qkv_b"))
    T = tokens.shape[1]
    h = prm["embedding"][tokens] + prm["position"][:T]
    if post:
        h = nn.functional.layer_norm(h, (width,), 1 + prm["ln_e_g"][0], prm["ln_e_b"][0])
    pad = torch.arange(T) >= lengths.unsqueeze(1)
    for k in range(layers):
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=prm[f"ff1_{k}"].shape[1], dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=not post, bias=post)
        layer = layer.to(torch.float64)
        with torch.no_grad():
            layer.self_attn.in_proj_weight.copy_(prm[f"qkv{k}"].T)
            layer.self_attn.out_proj.weight.copy_(prm[f"out{k}"].T)
            layer.linear1.weight.copy_(prm[f"ff1_{k}"].T)
            layer.linear2.weight.copy_(prm[f"ff2_{k}"].T)
            if post:
                layer.self_attn.in_proj_bias.copy_(prm[f"qkv_b{k}"][0])
                layer.self_attn.out_proj.bias.copy_(prm[f"out_b{k}"][0])
                layer.linear1.bias.copy_(prm[f"ff1_b{k}"][0])
                layer.linear2.bias.copy_(prm[f"ff2_b{k}"][0])
                for j in (1, 2):
                    getattr(layer, f"norm{j}").weight.copy_(1 + prm[f"ln{j}_g{k}"][0])
                    getattr(layer, f"norm{j}").bias.copy_(prm[f"ln{j}_b{k}"][0])
            h = layer(h, src_key_padding_mask=pad)
    if post:
        return torch.tanh(h[:, 0] @ prm["pool"] + prm["pool_b"][0])
    cls = nn.functional.layer_norm(h, (width,))[:, 0]
    return torch.tanh(cls @ prm["pool"])


def _ragged(task, pool_name: str = "lower"):
    """The task's pool with seeded random lengths (the grammar's sentences all have one length), so that
    padding is present and pooling over it would show; the task's pool is replaced in place."""
    pool = task.pools[pool_name]
    gen = torch.Generator().manual_seed(3)
    lengths = torch.minimum(pool.lengths, torch.randint(2, int(pool.lengths.max()) + 1, pool.lengths.shape,
                                                        generator=gen))
    task.pools[pool_name] = Pool(pool.tokens, lengths, pool.labels)
    assert bool((lengths < lengths.max()).any())
    return task.pools[pool_name]


def _random_x(task, seed=1):
    """A point away from x0 (so that every block, centres and biases included, matters)."""
    gen = torch.Generator().manual_seed(seed)
    return (task.x0 + 0.3 * torch.randn(task.dim_x, generator=gen, dtype=torch.float64).to(task.dtype)).unsqueeze(0)


@pytest.mark.parametrize("cell, pooling, layers", [("rnn", "max", 1), ("rnn", "mean", 1), ("lstm", "max", 1),
                                                   ("lstm", "mean", 1), ("rnn", "max", 2), ("lstm", "max", 2)])
def test_recurrent_features_match_torch_modules(cell, pooling, layers):
    task = tasks.make_task("hyper_representation", encoder=cell, pooling=pooling, hidden=6, embed_dim=5,
                           per_domain=24, layers=layers, dtype="float64")
    x = _random_x(task)
    pool = _ragged(task)
    idx = torch.arange(len(pool)).unsqueeze(0)
    ours = task.features(x, "lower", idx)[0]
    prm = {k: v[0] for k, v in task.spec.unflatten(x).items()}
    steps = int(pool.lengths.max())
    ref = _recurrent_reference(prm, pool.tokens[:, :steps], pool.lengths, cell, pooling)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)


def test_deep_auc_scores_match_torch_rnn():
    task = tasks.make_task("deep_auc", data="grammar", hidden=6, embed_dim=5, limit=80, layers=2, dtype="float64")
    x = _random_x(task)
    pool = _ragged(task, "test")
    idx = torch.arange(len(pool)).unsqueeze(0)
    prm = {k: v[0] for k, v in task.spec.unflatten(x).items()}
    feats = _recurrent_reference(prm, pool.tokens[:, : int(pool.lengths.max())], pool.lengths, "rnn", "max")
    ref = torch.sigmoid(feats @ prm["score"][:-1] + prm["score"][-1])
    torch.testing.assert_close(task.scores(x, "test", idx)[0], ref, rtol=1e-10, atol=1e-12)


def _transformer_case(data="grammar", layout="post"):
    task = tasks.make_task("transformer_fewshot", data=data, width=8, layers=2, heads=2, ff=12, per_class=10,
                           max_len=16, layout=layout, dtype="float64")
    x = _random_x(task)
    pool = _ragged(task)
    idx = torch.arange(len(pool)).unsqueeze(0)
    prm = {k: v[0] for k, v in task.spec.unflatten(x).items()}
    ref = _transformer_reference(prm, pool.tokens[:, : int(pool.lengths.max())], pool.lengths, task.heads, layout)
    return task, x, idx, ref


@pytest.mark.parametrize("layout", ["post", "pre"])
@pytest.mark.parametrize("data", ["grammar", pytest.param("real", marks=pytest.mark.skipif(not DATA, reason=NO_DATA))])
def test_transformer_features_match_torch_encoder_layer(data, layout):
    task, x, idx, ref = _transformer_case(data, layout)
    assert task.params["layout"] == layout
    torch.testing.assert_close(task.features(x, "lower", idx)[0], ref, rtol=1e-9, atol=1e-11)


def test_post_ln_reference_catches_a_planted_pre_ln_block(monkeypatch):
    """BERT's layout is the default; a planted pre-LN block without biases (the earlier model) must not match
    nn.TransformerEncoderLayer(norm_first=False, bias=True), nor must a post-LN block that drops its biases."""
    task, x, idx, ref = _transformer_case()
    assert tasks.task_parameters("transformer_fewshot")["layout"] == "post"
    real = encoders.transformer

    def pre_ln_no_bias(p, tokens, lengths, heads):
        keep = {k: v for k, v in p.items() if k in encoders.transformer_shapes(1, 1, 2, 1, 1, "pre")}
        return real(keep, tokens, lengths, heads)

    def post_ln_no_bias(p, tokens, lengths, heads):
        return real({k: (torch.zeros_like(v) if "_b" in k else v) for k, v in p.items()}, tokens, lengths, heads)

    for planted in (pre_ln_no_bias, post_ln_no_bias):
        monkeypatch.setattr(encoders, "transformer", planted)
        assert not torch.allclose(task.features(x, "lower", idx)[0], ref, rtol=1e-6, atol=1e-8), planted.__name__
    monkeypatch.setattr(encoders, "transformer", real)
    torch.testing.assert_close(task.features(x, "lower", idx)[0], ref, rtol=1e-9, atol=1e-11)


def test_the_reference_catches_a_planted_model_change(monkeypatch):
    """Planted bugs the task's own tests let through: pooling over padding, a swapped LSTM gate order."""
    task = tasks.make_task("hyper_representation", encoder="lstm", hidden=6, embed_dim=5, per_domain=24,
                           dtype="float64")
    x = _random_x(task)
    pool = _ragged(task)
    idx = torch.arange(len(pool)).unsqueeze(0)
    prm = {k: v[0] for k, v in task.spec.unflatten(x).items()}
    steps = int(pool.lengths.max())
    ref = _recurrent_reference(prm, pool.tokens[:, :steps], pool.lengths, "lstm", "max")
    real_recurrent = encoders.recurrent

    def pools_padding(p, tokens, lengths, cell, pooling="max"):
        return real_recurrent(p, tokens, torch.full_like(lengths, tokens.shape[-1]), cell, pooling)

    def swapped_gates(p, tokens, lengths, cell, pooling="max"):
        def swap(t):
            i, f, o, u = t.chunk(4, dim=-1)
            return torch.cat((i, f, u, o), dim=-1)

        q = dict(p, w_ih=swap(p["w_ih"]), w_hh=swap(p["w_hh"]), b=swap(p["b"]))
        return real_recurrent(q, tokens, lengths, cell, pooling)

    for planted in (pools_padding, swapped_gates):
        monkeypatch.setattr(encoders, "recurrent", planted)
        assert not torch.allclose(task.features(x, "lower", idx)[0], ref, rtol=1e-6, atol=1e-8), planted.__name__
    monkeypatch.setattr(encoders, "recurrent", real_recurrent)
    torch.testing.assert_close(task.features(x, "lower", idx)[0], ref, rtol=1e-10, atol=1e-12)
