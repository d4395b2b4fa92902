"""Batched functional sequence encoders: vanilla tanh RNN, LSTM and a small transformer encoder.

Weights carry a leading run dimension R (from ``ParamSpec.unflatten``), inputs are token ids
(R, B, T) with lengths (R, B). Every product is a ``torch.bmm``/``einsum`` over runs; there is no
cuDNN RNN path at all (the cells are written out), so double backward works on every device and
``torch.backends.cudnn.flags(enabled=False)`` is not needed (it is still applied by the task
oracles around second-order forward passes, which costs nothing).

    RNN   h_t = tanh(W_ih e_t + W_hh h_{t-1} + b),             features = max_t h_t  (as the papers' code)
          with layers > 1 (the papers' 2-layer RNN), layer k's input e_t is layer k-1's state
    LSTM  i, f, o, c~ gates;  c_t = f c_{t-1} + i c~,  h_t = o tanh(c_t),   features = max_t h_t
    transformer  layout 'post' (BERT's: Devlin et al., NAACL 2019; torch's norm_first=False), biases and
                 LayerNorm gains/shifts:  h = LN_e(e + pos);  h = LN_1(h + MHA(h));  h = LN_2(h + FF(h)),
                 FF(h) = W2 gelu(W1 h + b1) + b2,   features = tanh(W_p h_<cls> + b_p)
                 layout 'pre' (no biases, no LayerNorm affine):  h += MHA(LN h);  h += W2 gelu(W1 LN h),
                 features = tanh(W_p LN h_<cls>)
                 LayerNorm gains are stored as offsets from 1 (gain = 1 + g), so a zero start is the identity.
"""

from __future__ import annotations

import math

import torch

ENCODERS = ("rnn", "lstm", "transformer")


def embed(table: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Per-run embedding lookup: table (R, V, e), tokens (R, B, T) -> (R, B, T, e)."""
    R, V, e = table.shape
    offset = (torch.arange(R, device=tokens.device) * V).view(R, 1, 1)
    return table.reshape(R * V, e)[tokens + offset]


def _suffix(k: int) -> str:
    return "" if k == 0 else str(k)


def recurrent_shapes(cell: str, vocab: int, embed_dim: int, hidden: int,
                     layers: int = 1) -> dict[str, tuple[int, ...]]:
    """Layer 0: w_ih, w_hh, b; a stacked layer k >= 1 reads layer k-1's states: w_ih{k}, w_hh{k}, b{k}."""
    gates = 4 if cell == "lstm" else 1
    shapes = {"embedding": (vocab, embed_dim)}
    for k in range(layers):
        shapes.update({f"w_ih{_suffix(k)}": (embed_dim if k == 0 else hidden, gates * hidden),
                       f"w_hh{_suffix(k)}": (hidden, gates * hidden), f"b{_suffix(k)}": (1, gates * hidden)})
    return shapes


def recurrent_scales(cell: str, embed_dim: int, hidden: int, radius: float = 1.0,
                     layers: int = 1) -> dict[str, float]:
    """Start scales: W_hh entries N(0, radius^2 / hidden) so its spectral radius is about ``radius``."""
    scales = {"embedding": 1.0}
    for k in range(layers):
        scales.update({f"w_ih{_suffix(k)}": 1.0 / math.sqrt(embed_dim if k == 0 else hidden),
                       f"w_hh{_suffix(k)}": radius / math.sqrt(hidden)})
    return scales


def _layer(inputs: torch.Tensor, w_hh: torch.Tensor, cell: str) -> torch.Tensor:
    """States (R, B, T, H) of one recurrent layer from its input projections (R, B, T, gates H)."""
    R, B, T, _ = inputs.shape
    per_step = inputs.unbind(2)  # unbind, not slicing: its backward stacks once instead of T full-size zeros
    H = w_hh.shape[1]  # w_hh is (R, H, gates H)
    h = inputs.new_zeros(R, B, H)
    c = inputs.new_zeros(R, B, H)
    states = []
    for t in range(T):
        pre = per_step[t] + torch.bmm(h, w_hh)
        if cell == "lstm":
            i, f, o, u = pre.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            h = torch.tanh(pre)
        states.append(h)
    return torch.stack(states, dim=2)


def recurrent(p: dict[str, torch.Tensor], tokens: torch.Tensor, lengths: torch.Tensor, cell: str,
              pooling: str = "max") -> torch.Tensor:
    """Max- (or mean-) pooled hidden states (R, B, H) of a batched vanilla RNN or LSTM over padded tokens.

    Padding is on the right, so states past a sequence's end are never pooled and need no masking
    inside the recurrence; the pooling masks them once at the end.
    """
    R, B, T = tokens.shape
    hs = embed(p["embedding"], tokens)
    k = 0
    while f"w_hh{_suffix(k)}" in p:  # stacked layers: layer k reads layer k-1's states
        x = hs.reshape(R, B * T, -1)
        inputs = (torch.bmm(x, p[f"w_ih{_suffix(k)}"]) + p[f"b{_suffix(k)}"]).reshape(R, B, T, -1)
        hs = _layer(inputs, p[f"w_hh{_suffix(k)}"], cell)                         # (R, B, T, H)
        k += 1
    pad = (torch.arange(T, device=tokens.device) >= lengths.unsqueeze(-1)).unsqueeze(-1)
    if pooling == "max":
        return hs.masked_fill(pad, -torch.inf).amax(dim=2)
    return hs.masked_fill(pad, 0.0).sum(dim=2) / lengths.unsqueeze(-1).to(hs.dtype)


LAYOUTS = ("post", "pre")


def transformer_shapes(vocab: int, width: int, layers: int, ff: int, max_len: int,
                       layout: str = "pre") -> dict[str, tuple[int, ...]]:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    post = layout == "post"
    shapes = {"embedding": (vocab, width), "position": (max_len, width)}
    if post:
        shapes.update({"ln_e_g": (1, width), "ln_e_b": (1, width)})
    for k in range(layers):
        shapes.update({f"qkv{k}": (width, 3 * width), f"out{k}": (width, width),
                       f"ff1_{k}": (width, ff), f"ff2_{k}": (ff, width)})
        if post:
            shapes.update({f"qkv_b{k}": (1, 3 * width), f"out_b{k}": (1, width), f"ff1_b{k}": (1, ff),
                           f"ff2_b{k}": (1, width), f"ln1_g{k}": (1, width), f"ln1_b{k}": (1, width),
                           f"ln2_g{k}": (1, width), f"ln2_b{k}": (1, width)})
    shapes["pool"] = (width, width)
    if post:
        shapes["pool_b"] = (1, width)
    return shapes


def transformer_scales(width: int, layers: int, ff: int) -> dict[str, float]:
    """Start scales of the weight matrices; biases and LayerNorm offsets start at zero (names left out)."""
    scales = {"embedding": 1.0, "position": 0.1, "pool": 1.0 / math.sqrt(width)}
    for k in range(layers):
        scales.update({f"qkv{k}": 1.0 / math.sqrt(width), f"out{k}": 1.0 / math.sqrt(width * 2 * layers),
                       f"ff1_{k}": 1.0 / math.sqrt(width), f"ff2_{k}": 1.0 / math.sqrt(ff * 2 * layers)})
    return scales


def _norm(h: torch.Tensor, gain=None, shift=None) -> torch.Tensor:
    """LayerNorm over the last axis; with gain offsets g (R, 1, w) and shifts b: (1 + g) LN(h) + b."""
    out = torch.nn.functional.layer_norm(h, h.shape[-1:])
    return out if gain is None else out * (1 + gain) + shift


def _bias(p: dict, name: str):
    return p[name] if name in p else 0.0


def transformer(p: dict[str, torch.Tensor], tokens: torch.Tensor, lengths: torch.Tensor, heads: int) -> torch.Tensor:
    """Pooled <cls> features (R, B, width) of a batched transformer encoder (randomly initialised); the
    layout (post-LN with biases, or pre-LN without) follows the parameters: post-LN ones carry 'ln1_g0'."""
    R, B, T = tokens.shape
    width = p["embedding"].shape[-1]
    layers = sum(1 for name in p if name.startswith("qkv") and not name.startswith("qkv_b"))
    post = "ln_e_g" in p
    h = (embed(p["embedding"], tokens) + p["position"][:, None, :T]).reshape(R, B * T, width)
    if post:
        h = _norm(h, p["ln_e_g"], p["ln_e_b"])
    pad = (torch.arange(T, device=tokens.device) >= lengths.unsqueeze(-1)).reshape(R * B, 1, 1, T)
    dh = width // heads
    for k in range(layers):
        a = h if post else _norm(h)
        q, key, v = (torch.bmm(a, p[f"qkv{k}"]) + _bias(p, f"qkv_b{k}")).reshape(R * B, T, 3, heads, dh).unbind(2)
        scores = torch.einsum("nthd,nshd->nhts", q, key) / math.sqrt(dh)
        att = torch.softmax(scores.masked_fill(pad, -torch.inf), dim=-1)
        mixed = torch.einsum("nhts,nshd->nthd", att, v).reshape(R, B * T, width)
        h = h + torch.bmm(mixed, p[f"out{k}"]) + _bias(p, f"out_b{k}")
        if post:
            h = _norm(h, p[f"ln1_g{k}"], p[f"ln1_b{k}"])
        a = h if post else _norm(h)
        inner = torch.nn.functional.gelu(torch.bmm(a, p[f"ff1_{k}"]) + _bias(p, f"ff1_b{k}"))
        h = h + torch.bmm(inner, p[f"ff2_{k}"]) + _bias(p, f"ff2_b{k}")
        if post:
            h = _norm(h, p[f"ln2_g{k}"], p[f"ln2_b{k}"])
    cls = (h if post else _norm(h)).reshape(R, B, T, width)[:, :, 0]
    return torch.tanh(torch.bmm(cls, p["pool"]) + _bias(p, "pool_b"))


def encode(kind: str, p: dict[str, torch.Tensor], pool, idx: torch.Tensor, heads: int = 1,
           pooling: str = "max") -> torch.Tensor:
    """Features (R, B, F) of pool examples idx (R, B), trimmed to the longest sequence in the batch."""
    lengths = pool.lengths[idx]
    steps = int(lengths.max())
    tokens = pool.tokens[idx][..., :steps]
    if kind == "transformer":
        return transformer(p, tokens, lengths, heads)
    return recurrent(p, tokens, lengths, kind, pooling)
