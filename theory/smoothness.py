"""Smoothness along trajectories (the (L0, L1) condition of Zhang, He, Sra, Jadbabaie, ICLR 2020, and its
secant measurement along update segments, as in their experiments).

Secant smoothness of a step x_t -> x_{t+1} (after Zhang et al. 2020, ``eval_smooth``):

    L_hat_t = max_{a in grid} ||grad Phi(x_t + a (x_{t+1} - x_t)) - grad Phi(x_t)|| / (a ||x_{t+1} - x_t||)

If Phi is (L0, L1)-smooth in Hessian form, (C2) gives, with r = a ||x_{t+1} - x_t||,
    ||grad Phi(x_t + ...) - grad Phi(x_t)|| / r <= (L0/L1 + G_t)(e^{L1 r} - 1) / r,
which tends to L0 + L1 G_t as r -> 0: ``secant_ceiling`` is this exact per-pair ceiling.
The frontier L0*(L1) = max_i (h_i - L1 g_i) is the smallest L0 compatible with a given L1.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def secant_smoothness(grad_fn, x_now: torch.Tensor, x_next: torch.Tensor, points: int = 4) -> torch.Tensor:
    """(R,) secant smoothness of the segments x_now -> x_next (rows), max over ``points`` interior fractions.

    ``grad_fn`` maps an (R, d) batch to exact gradients. Zero-length segments give NaN.
    """
    if x_now.shape != x_next.shape or x_now.dim() != 2:
        raise ValueError(f"x_now and x_next must be equal (R, d) tensors, got {tuple(x_now.shape)}, {tuple(x_next.shape)}")
    if points < 1:
        raise ValueError(f"points must be >= 1, got {points!r}")
    g0 = grad_fn(x_now)
    delta = x_next - x_now
    length = delta.norm(dim=1)
    best = torch.full_like(length, -math.inf)
    for a in torch.linspace(1.0 / points, 1.0, points).tolist():
        ratio = (grad_fn(x_now + a * delta) - g0).norm(dim=1) / (a * length)
        best = torch.maximum(best, ratio)
    return torch.where(length > 0, best, torch.full_like(best, math.nan))


def secant_ceiling(L0: float, L1: float, grad_norm, length) -> np.ndarray:
    """Largest secant ratio an (L0, L1)-smooth function allows for a segment of this length from a
    point with gradient norm G, over interior points: max_r (L0/L1 + G)(e^{L1 r} - 1)/r, r <= length,
    attained at r = length ((e^u - 1)/u increases). L1 = 0 gives L0."""
    g = np.asarray(grad_norm, dtype=float)
    r = np.asarray(length, dtype=float)
    if L1 == 0:
        return np.full(np.broadcast(g, r).shape, float(L0))
    u = L1 * r
    growth = np.where(u > 1e-12, np.expm1(u) / np.where(u > 1e-12, u, 1.0), 1.0)
    return (L0 + L1 * g) * growth


def frontier(local_smoothness, grad_norm, L1) -> np.ndarray:
    """L0*(L1) = max_i (h_i - L1 g_i) over finite samples, for each L1 in the (scalar or array) ``L1``."""
    h = np.asarray(local_smoothness, dtype=float).ravel()
    g = np.asarray(grad_norm, dtype=float).ravel()
    if h.shape != g.shape:
        raise ValueError(f"local_smoothness and grad_norm must have the same size, got {h.size} and {g.size}")
    keep = np.isfinite(h) & np.isfinite(g)
    if not keep.any():
        raise ValueError("local_smoothness and grad_norm have no finite pair")
    h, g = h[keep], g[keep]
    L1 = np.atleast_1d(np.asarray(L1, dtype=float))
    out = np.max(h[None, :] - L1[:, None] * g[None, :], axis=1)
    return out if out.size > 1 else out[:1]
