"""Upper-level updates: small pure functions on (R, d_x) tensors, all per row (per run).

    normalized momentum (BO-REP, SLIP; beta weighs the OLD momentum, papers.md section 9 fact 8):
        m <- beta m + (1 - beta) h,   x <- x - eta m / ||m||          (||x' - x|| = eta exactly)
    normalized recursive momentum (AccBO code form, papers.md section 5):
        m <- beta m + (1 - beta) h_t + beta (h_t - h_{t-1}),   x <- x - eta m / ||m||
    Adam as analysed in AdamBO (beta weighs the NEW gradient, beta = 1 - beta1; no bias correction):
        m <- (1 - beta) m + beta h,  v <- (1 - beta_sq) v + beta_sq h^2,  x <- x - eta m / (sqrt(v) + lam)
    Adam, PyTorch form (option; papers.md section 7 item 10): beta1 = 1 - beta, beta2 = 1 - beta_sq,
        bias-corrected m / (1 - beta1^t), v / (1 - beta2^t), coupled weight decay h + wd x
    clipped SGD:  x <- x - min(eta, clip / ||h||) h
    SGD with heavy-ball momentum (beta = 0: plain SGD):  m <- beta m + (1 - beta) h,  x <- x - eta m
"""

from __future__ import annotations

import math

import torch

Tensor = torch.Tensor


def _safe_norm(v: Tensor) -> Tensor:
    return v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)


def momentum(m: Tensor, h: Tensor, beta: float) -> Tensor:
    """beta m + (1 - beta) h (beta weighs the old momentum)."""
    return beta * m + (1.0 - beta) * h


def normalized_step(x: Tensor, m: Tensor, eta: float) -> Tensor:
    """x - eta m / ||m|| per row (a zero direction gives a zero step)."""
    return x - eta * m / _safe_norm(m)


def recursive_momentum(m: Tensor, h: Tensor, h_prev: Tensor, beta: float) -> Tensor:
    """beta m + (1 - beta) h + beta (h - h_prev)."""
    return beta * m + (1.0 - beta) * h + beta * (h - h_prev)


def adam_analysed(x: Tensor, m: Tensor, v: Tensor, h: Tensor, eta: float, beta: float, beta_sq: float,
                  lam: float) -> tuple[Tensor, Tensor, Tensor]:
    """AdamBO's Adam (Li, Rakhlin, Jadbabaie 2023 notation): returns (x', m', v')."""
    m = (1.0 - beta) * m + beta * h
    v = (1.0 - beta_sq) * v + beta_sq * h * h
    return x - eta * m / (torch.sqrt(v) + lam), m, v


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


def adam_step_bound(eta: float, beta: float, beta_sq: float) -> float:
    """Per-coordinate bound on the analysed-Adam step, valid for every gradient sequence (m_0 = v_0 = 0).

    Cauchy-Schwarz on m_t = sum_s beta (1-beta)^(t-s) h_s against v_t = sum_s beta_sq (1-beta_sq)^(t-s) h_s^2:
        |m_t| <= beta / sqrt(beta_sq) * (1 - (1-beta)^2 / (1-beta_sq))^(-1/2) * sqrt(v_t),
    so |x'_i - x_i| <= eta |m_i| / sqrt(v_i) <= eta * that factor. Needs (1-beta)^2 < 1-beta_sq; inf otherwise.
    """
    ratio = (1.0 - beta) ** 2 / (1.0 - beta_sq) if beta_sq < 1.0 else math.inf
    if ratio >= 1.0:
        return math.inf
    return eta * beta / math.sqrt(beta_sq) / math.sqrt(1.0 - ratio)


def clipped_sgd(x: Tensor, h: Tensor, eta: float, clip: float) -> Tensor:
    """x - min(eta, clip / ||h||) h per row: step length min(eta ||h||, clip)."""
    return x - torch.clamp(clip / _safe_norm(h), max=eta) * h


def sgd(x: Tensor, h: Tensor, eta: float) -> Tensor:
    return x - eta * h
