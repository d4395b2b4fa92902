"""Flat batched parameter vectors: x of shape (R, D) viewed as named (R, *shape) tensors.

R independent runs are R independent parameter sets, so the batched runner works unchanged and
the models below are written with batched weights (no Python loop over runs).
"""

from __future__ import annotations

import math

import torch


class ParamSpec:
    """Ordered named shapes packed into one flat vector per run."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]):
        self.shapes = dict(shapes)
        self.offsets, total = {}, 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            self.offsets[name] = (total, total + size)
            total += size
        self.dim = total

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Views of a (R, dim) tensor as {name: (R, *shape)} (autograd flows through the views)."""
        if flat.shape[-1] != self.dim:
            raise ValueError(f"flat parameters must have last dimension {self.dim}, got {tuple(flat.shape)}")
        return {n: flat[:, a:b].reshape(flat.shape[0], *self.shapes[n]) for n, (a, b) in self.offsets.items()}

    def init(self, generator: torch.Generator, scales: dict[str, float], dtype, device) -> torch.Tensor:
        """One (dim,) start: normal(0, scale) per block (a scale of 0, or a name left out, gives zeros)."""
        parts = []
        for name, shape in self.shapes.items():
            scale = scales.get(name, 0.0)
            block = torch.randn(math.prod(shape), generator=generator, dtype=torch.float64) * scale
            parts.append(block)
        return torch.cat(parts).to(device=device, dtype=dtype)
