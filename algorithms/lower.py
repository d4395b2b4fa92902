"""Lower-level schedules: SGD steps on g(x, .), Epoch-SGD, Nesterov steps, warm starts.

    SGD:        y <- y - gamma grad_y G(x, y; pi)                 (fresh sample every step)
    Epoch-SGD (E. Hazan, S. Kale, JMLR 2014; BO-REP's initialization refinement, whose details could not
    be checked against BO-REP's text: the choices here are reconstructions):
        epoch k = 1..E runs n_k = n_1 2^(k-1) SGD steps with gamma_k = gamma_1 2^-(k-1) from the
        previous epoch's output, each iterate projected onto the ball of radius r_k = r_1 2^-(k-1)/2
        around the epoch's start (r_1 = inf: no projection), and outputs the epoch's average iterate.
    accumulated SGD (released BO-REP and SLIP scripts, no zero_grad between steps):
                y_s = y_{s-1} - gamma sum_{r <= s} grad_y G(x, y_{r-1}; pi_r)
    Nesterov (AccBO's released code):
        w = y + theta (y - y_prev);  y_new = w - gamma grad_y G(x, w);  y_avg <- (1 - tau) y_avg + tau y_new
"""

from __future__ import annotations

import torch

from ubo.algorithms.hypergradient import project_ball

Tensor = torch.Tensor


def sgd_steps(oracle, x: Tensor, y: Tensor, gamma: float, steps: int) -> Tensor:
    """``steps`` SGD steps on g(x, .) from y, one fresh grad_g sample each (``steps`` grad_g calls)."""
    for _ in range(steps):
        y = y - gamma * oracle.grad_g(x, y)
    return y


def accumulated_sgd_steps(oracle, x: Tensor, y: Tensor, gamma: float, steps: int) -> Tensor:
    """``steps`` SGD steps whose gradients accumulate: step s uses the sum of the first s gradients."""
    total = torch.zeros_like(y)
    for _ in range(steps):
        total = total + oracle.grad_g(x, y)
        y = y - gamma * total
    return y


def epoch_sgd(oracle, x: Tensor, y: Tensor, gamma: float, first_epoch: int, epochs: int,
              radius: float = float("inf")) -> Tensor:
    """Epoch-SGD: step halves, length doubles, averaged output per epoch (n_1 (2^E - 1) grad_g calls)."""
    for k in range(epochs):
        start = y
        step = gamma * 0.5**k
        ball = radius * 0.5 ** (k / 2)
        total = torch.zeros_like(y)
        n = first_epoch * 2**k
        for _ in range(n):
            y = start + project_ball(y - step * oracle.grad_g(x, y) - start, ball)
            total = total + y
        y = total / n
    return y


def nesterov_step(oracle, x: Tensor, y: Tensor, y_prev: Tensor, y_avg: Tensor, gamma: float, theta: float,
                  tau: float) -> tuple[Tensor, Tensor, Tensor]:
    """One stochastic Nesterov step with averaging; returns (y_new, y, y_avg_new). One grad_g call."""
    w = y + theta * (y - y_prev)
    y_new = w - gamma * oracle.grad_g(x, w)
    return y_new, y, (1.0 - tau) * y_avg + tau * y_new
