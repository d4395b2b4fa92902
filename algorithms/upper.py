"""Upper-level updates: small pure functions on (R, d_x) tensors, all per row (per run).

    normalized momentum (BO-REP, SLIP; beta weighs the OLD momentum, as in both papers):
        m <- beta m + (1 - beta) h,   x <- x - eta m / ||m||          (||x' - x|| = eta exactly)
        the norm is taken after scaling by max|m_i| so that it neither underflows nor overflows
    recursive (STORM) momentum (AccBO; Cutkosky and Orabona, NeurIPS 2019):
        m <- beta m + (1 - beta) h_t + beta (h_t - g_t),   x <- x - eta m / ||m||
        g_t = the same samples at the previous point (AccBO's "storm"), or h_{t-1} (released code)
    Adam in AdamBO's notation (beta weighs the NEW gradient, beta = 1 - beta1; Li, Rakhlin, Jadbabaie,
    NeurIPS 2023, Algorithm 1: with bias correction, t = 1, 2, ...):
        m <- (1 - beta) m + beta h,  v <- (1 - beta_sq) v + beta_sq h^2,
        x <- x - eta mhat / (sqrt(vhat) + lam),  mhat = m / (1 - (1 - beta)^t), vhat = v / (1 - (1 - beta_sq)^t)
    the same without bias correction (option "uncorrected": x <- x - eta m / (sqrt(v) + lam))
    Adam, PyTorch form (option; AdamBO's released code): the bias-corrected form plus coupled weight
        decay h + wd x (torch.optim.Adam with betas = (1 - beta, 1 - beta_sq), eps = lam)
    clipped SGD:  x <- x - min(eta, clip / ||h||) h
    SGD with heavy-ball momentum (beta = 0: plain SGD):  m <- beta m + (1 - beta) h,  x <- x - eta m
"""

from __future__ import annotations

import math

import numpy as np
import torch

Tensor = torch.Tensor


def _safe_norm(v: Tensor) -> Tensor:
    return torch.linalg.vector_norm(v, dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)


def unit_rows(v: Tensor) -> Tensor:
    """v / ||v|| per row, exact for any finite magnitude: u = v / max_i |v_i| first (its largest entry is
    exactly +-1, so ||u|| >= 1 and neither under- nor overflows), then u / ||u||. A zero row stays 0
    (its scale and norm are clamped to the dtype's smallest subnormal and to 1, which no other row changes)."""
    info = torch.finfo(v.dtype)
    u = v / v.abs().amax(dim=1, keepdim=True).clamp_min(info.tiny * info.eps)
    return u / torch.linalg.vector_norm(u, dim=1, keepdim=True).clamp_min(1.0)


def momentum(m: Tensor, h: Tensor, beta: float) -> Tensor:
    """beta m + (1 - beta) h (beta weighs the old momentum)."""
    return beta * m + (1.0 - beta) * h


def normalized_step(x: Tensor, m: Tensor, eta: float) -> Tensor:
    """x - eta m / ||m|| per row: a step of length eta for every nonzero m (a zero direction gives a zero step)."""
    return x - eta * unit_rows(m)


def recursive_momentum(m: Tensor, h: Tensor, h_prev: Tensor, beta: float) -> Tensor:
    """beta m + (1 - beta) h + beta (h - h_prev)."""
    return beta * m + (1.0 - beta) * h + beta * (h - h_prev)


def adam_uncorrected(x: Tensor, m: Tensor, v: Tensor, h: Tensor, eta: float, beta: float, beta_sq: float,
                     lam: float) -> tuple[Tensor, Tensor, Tensor]:
    """Adam in AdamBO's notation without bias correction: returns (x', m', v')."""
    m = (1.0 - beta) * m + beta * h
    v = (1.0 - beta_sq) * v + beta_sq * h * h
    return x - eta * m / (torch.sqrt(v) + lam), m, v


def adam_corrected(x: Tensor, m: Tensor, v: Tensor, h: Tensor, t: int, eta: float, beta: float, beta_sq: float,
                   lam: float) -> tuple[Tensor, Tensor, Tensor]:
    """Li, Rakhlin, Jadbabaie (2023) Algorithm 1 at step t >= 1 (bias-corrected): returns (x', m', v')."""
    m = (1.0 - beta) * m + beta * h
    v = (1.0 - beta_sq) * v + beta_sq * h * h
    m_hat = m / (1.0 - (1.0 - beta) ** t)
    v_hat = v / (1.0 - (1.0 - beta_sq) ** t)
    return x - eta * m_hat / (torch.sqrt(v_hat) + lam), m, v


def adam_torch(x: Tensor, m: Tensor, v: Tensor, h: Tensor, t: int, eta: float, beta: float, beta_sq: float,
               lam: float, weight_decay: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """torch.optim.Adam's update at step t >= 1 (bias correction, eps outside the root, coupled L2)."""
    if weight_decay:
        h = h + weight_decay * x
    beta1, beta2 = 1.0 - beta, 1.0 - beta_sq
    m = beta1 * m + (1.0 - beta1) * h
    v = beta2 * v + (1.0 - beta2) * h * h
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return x - eta * m_hat / (torch.sqrt(v_hat) + lam), m, v


def adam_step_bound(eta: float, beta: float, beta_sq: float, bias_correction: bool = False) -> float:
    """Per-coordinate bound on the Adam step, valid for every gradient sequence (m_0 = v_0 = 0, lam >= 0).

    Cauchy-Schwarz on m_t = sum_s beta (1-beta)^(t-s) h_s against v_t = sum_s beta_sq (1-beta_sq)^(t-s) h_s^2,
    with r = (1-beta)^2 / (1-beta_sq) < 1:
        |m_t| <= sqrt(beta^2 / beta_sq * (1 - r^t) / (1 - r)) sqrt(v_t)    (sup over t: r^t -> 0),
    so |x'_i - x_i| <= eta |m_i| / sqrt(v_i) <= eta * that factor. With bias correction the factor at step t
    gains (1 - (1-beta_sq)^t) / (1 - (1-beta)^t)^2 under the root; the bound is its maximum over t (computed
    until every geometric term is below e^-50, after which the factor is 1 + O(e^-50)). For beta = beta_sq
    the corrected factor is 1 (Jensen). Needs (1-beta)^2 < 1-beta_sq; inf otherwise.
    """
    ratio = (1.0 - beta) ** 2 / (1.0 - beta_sq) if beta_sq < 1.0 else math.inf
    if ratio >= 1.0:
        return math.inf
    base = beta**2 / beta_sq / (1.0 - ratio)
    if not bias_correction:
        return eta * math.sqrt(base)
    rates = [-math.log1p(-b) for b in (beta, beta_sq) if b < 1.0] + [-math.log(ratio) if ratio > 0 else math.inf]
    horizon = min(int(50.0 / min(rates)) + 2, 10**7)
    t = np.arange(1, horizon + 1, dtype=np.float64)
    factor = -np.expm1(t * np.log1p(-beta_sq)) if beta_sq < 1 else np.ones_like(t)
    factor = factor * (-np.expm1(t * np.log(ratio)) if ratio > 0 else 1.0)
    factor = factor / (-np.expm1(t * np.log1p(-beta)) if beta < 1 else np.ones_like(t)) ** 2
    return eta * math.sqrt(base * max(float(factor.max()), 1.0) * (1.0 + 1e-12))


def clipped_sgd(x: Tensor, h: Tensor, eta: float, clip: float) -> Tensor:
    """x - min(eta, clip / ||h||) h per row: step length min(eta ||h||, clip)."""
    return x - torch.clamp(clip / _safe_norm(h), max=eta) * h


def sgd(x: Tensor, h: Tensor, eta: float) -> Tensor:
    return x - eta * h
