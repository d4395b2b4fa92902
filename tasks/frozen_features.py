"""Fixed representations for the tasks whose x holds only hyperparameters (HO, hyper-cleaning).

The encoder (embedding + recurrent cell, max-pooled) is either trained once with Adam on a
disjoint pre-training set ('pretrained': other generated sentences, or the other sentiment
domains for real data), or left at its seeded random start ('random'; its features are close to
useless for the negation grammar: about 55 % test accuracy for a linear head, measured). The
encoder is then frozen and applied once to every pool, so the features are constants of the task
and the lower level is a linear head on them.
"""

from __future__ import annotations

import torch

from ubo.tasks import encoders, head
from ubo.tasks.base import Pool
from ubo.tasks.building import generator
from ubo.tasks.params import ParamSpec


def pretrain(params: torch.Tensor, spec: ParamSpec, pool: Pool, cell: str, steps: int, lr: float,
             batch: int, seed: int) -> torch.Tensor:
    """Adam on the encoder plus a throw-away linear head, cross-entropy on ``pool``; returns the encoder (1, D)."""
    gen = generator(seed + 2000)
    hidden = spec.shapes["w_hh"][0]
    enc = params.clone().requires_grad_(True)
    lin = torch.zeros(1, 2 * (hidden + 1), dtype=params.dtype, device=params.device, requires_grad=True)
    opt = torch.optim.Adam([enc, lin], lr=lr)
    for _ in range(steps):
        idx = torch.randint(len(pool), (1, batch), generator=gen).to(params.device)
        with torch.enable_grad():
            feats = encoders.encode(cell, spec.unflatten(enc), pool, idx)
            loss = head.cross_entropy(lin, feats, pool.labels[idx], 2).mean()
            opt.zero_grad()
            loss.backward()
        opt.step()
    return enc.detach()


def frozen_features(pools: dict[str, Pool], vocab_size: int, cell: str, embed_dim: int, hidden: int, seed: int,
                    dtype, device, pretrain_pool: Pool | None = None, steps: int = 0, lr: float = 1e-2,
                    batch: int = 64, chunk: int = 1024) -> dict[str, torch.Tensor]:
    """{pool name: (N, hidden) features} of the (optionally pre-trained) frozen encoder."""
    spec = ParamSpec(encoders.recurrent_shapes(cell, vocab_size, embed_dim, hidden))
    flat = spec.init(generator(seed + 1000), encoders.recurrent_scales(cell, embed_dim, hidden),
                     dtype, device).unsqueeze(0)
    if pretrain_pool is not None and steps > 0:
        flat = pretrain(flat, spec, pretrain_pool, cell, steps, lr, batch, seed)
    params = spec.unflatten(flat)
    out = {}
    with torch.no_grad():
        for name, pool in pools.items():
            parts = [encoders.encode(cell, params, pool, torch.arange(a, min(a + chunk, len(pool)),
                                                                       device=device).unsqueeze(0))[0]
                     for a in range(0, len(pool), chunk)]
            out[name] = torch.cat(parts)
    return out
