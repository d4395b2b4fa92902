"""SLIP: single-loop normalized momentum for bilevel problems under unbounded smoothness.

X. Gong, J. Hao, M. Liu, "A Nearly Optimal Single Loop Algorithm for Stochastic Bilevel Optimization
under Unbounded Smoothness", ICML 2024, PMLR 235 (arXiv:2412.20017). [confirmed] from the paper's
abstract: a warm start of SGD steps on y at x_0, then simultaneous normalized SGD with momentum on x and
one SGD step on y per iteration; the z-form estimator is [confirmed] from the released code.
Reconstructed (the paper's text could not be re-read): the indices, the order inside an iteration
(every oracle at (x_t, y_t, z_t), h_t uses z_t) and the projection of z on the ball of radius l_f0 / mu::

    y <- y_init;  repeat T0 times: y <- y - gamma grad_y G(x_0, y; pi~)      # warm start at x_0
    for t = 0, ..., T-1:
        h_t     = grad_x F(x_t, y_t; xi_t) - grad2_xy G(x_t, y_t; zeta_t) z_t
        m_t     = beta m_{t-1} + (1 - beta) h_t                 # m_{-1} = 0; beta weighs the old momentum
        x_{t+1} = x_t - eta m_t / ||m_t||
        y_{t+1} = y_t - gamma grad_y G(x_t, y_t; pi_t)
        z_{t+1} = Pi_{||z|| <= R}( z_t - nu [grad2_yy G(x_t, y_t; zeta_t) z_t - grad_y F(x_t, y_t; xi_t)] )

Oracle calls per iteration: 1 grad_f (xi), 1 fused hvp+jvp (zeta), 1 grad_g (pi); warm start T0 grad_g.
Guarantee (SLIP, abstract): (1/T) sum_t ||grad Phi(x_t)|| <= eps in expectation and with probability
>= 1 - delta after O~(eps^-4) oracle calls, with 1-beta = Theta(eps^2), eta = Theta(eps^3),
gamma, nu = Theta~(eps^2) (theory/parameters.py ``slip`` states the constants chosen).

Reference runs: ``z_update = "exact"`` replaces the z-SGD line by z_t = [grad2_yy g(x_t, y_t)]^-1 grad_y F(x_t, y_t; xi_t)
(a dense solve with the problem's exact Hessian, no hvp call; not an oracle method) and uses that z_t in h_t,
so that what remains of the hypergradient error comes from y and the noise alone.

Options reproducing the released code (off by default): ``z_radius = inf`` (no projection),
``z_init = "random"`` (z_0 random, here N(0, 1/d_y) per entry from the generator seeded by ``z_init_seed``
so all runs share it), ``jacobian = "next"`` (the Jacobian term at (y_{t+1}, z_{t+1}) on its own sample,
and grad_y F at y_{t+1}: the released code's order, which costs a separate hvp and jvp), and
``lower_accumulate`` extra lower steps per iteration with accumulated gradients (the released
hyper-cleaning script: step s uses the sum of the first s gradients), and ``task_batch = K`` (the
released per-task momentum averaging: m updated once per task, x stepped once per batch of K tasks along
the normalized mean of the K successive momentum states). Not offered: the grad_x G contamination of
"grad_x f" (SLIP's calls have no grad_x G). The released step length xi = 0.08 is simply ``eta = 0.08``.

Hyperparameters:
    eta               upper step length (every step moves x by exactly eta)
    beta              momentum weight of the old momentum, in [0, 1) (1 - beta = Theta(eps^2) in theory)
    gamma             lower-level SGD step size
    nu                z-SGD step size
    warm_start        SGD steps on y at x_0 before the first iteration (T0)
    z_radius          z-projection radius R: "paper" (default: l_f0 / mu from the problem's certified
                      constants when the run starts; no projection when the problem has none), a number,
                      or inf (no projection, the released code)
    z_init            z_0: "zero" (paper) or "random" (released code)
    z_init_seed       seed of the random z_0
    z_update          "sgd" (the algorithm) or "exact" (reference runs, see above)
    jacobian          "current" (paper: one sample at (x_t, y_t, z_t)) or "next" (released code)
    lower_accumulate  extra accumulated-gradient lower steps per iteration (released code; 0 = paper)
    task_batch        K >= 1 "tasks" per x step (released code; 1 = paper): the y, z and momentum lines run
                      K times at fixed x_t on fresh samples, m updated each time, and x steps along the
                      normalized mean of the K successive momentum states (oracle calls per step times K)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, RADIUS, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import exact_solve, resolve_z_radius, z_sgd_step
from ubo.algorithms.lower import accumulated_sgd_steps, sgd_steps
from ubo.algorithms.state import State


def initial_z(y: torch.Tensor, how: str, seed: int) -> torch.Tensor:
    """z_0 = 0 (paper) or a random point shared by all runs (released code)."""
    if how == "zero":
        return torch.zeros_like(y)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(y.shape[1], generator=gen, dtype=torch.float64) / math.sqrt(y.shape[1])
    return z.to(y.device, y.dtype).expand_as(y).clone()


@dataclass(frozen=True)
class SLIP(Algorithm):
    eta: float = 1e-2
    beta: float = 0.9
    gamma: float = 0.1
    nu: float = 0.1
    warm_start: int = 0
    z_radius: float | str = "paper"
    z_init: str = "zero"
    z_init_seed: int = 0
    z_update: str = "sgd"
    jacobian: str = "current"
    lower_accumulate: int = 0
    task_batch: int = 1

    name: ClassVar[str] = "slip"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_RIGHT_OPEN, "gamma": POSITIVE, "nu": POSITIVE}
    _ints: ClassVar[dict] = {"warm_start": 0, "z_init_seed": 0, "lower_accumulate": 0, "task_batch": 1}
    _choices: ClassVar[dict] = {"z_init": ("zero", "random"), "z_update": ("sgd", "exact"),
                                "jacobian": ("current", "next")}
    _auto: ClassVar[dict] = {"z_radius": ("paper", RADIUS)}

    def __post_init__(self):
        super().__post_init__()
        if self.jacobian == "next" and self.z_update == "exact":
            raise ValueError("jacobian must be 'current' when z_update='exact', got 'next'")

    def init(self, oracle, x0, y0) -> State:
        y = sgd_steps(oracle, x0, y0, self.gamma, self.warm_start)
        return State(x=x0, y=y, z=initial_z(y, self.z_init, self.z_init_seed), m=torch.zeros_like(x0))

    def step(self, oracle, s: State) -> State:
        radius = resolve_z_radius(self.z_radius, oracle.problem)
        y, z, m, momenta = s.y, s.z, s.m, 0.0
        for _ in range(self.task_batch):  # task_batch = 1: the paper's iteration
            y, z, h = self._task(oracle, s.x, y, z, radius)
            m = upper.momentum(m, h, self.beta)
            momenta = momenta + m
        x = upper.normalized_step(s.x, momenta / self.task_batch, self.eta)
        return State(x=x, y=y, z=z, m=m, h=h, t=s.t + 1)

    def _task(self, oracle, x, y, z, radius):
        """One sample's lower, z and hypergradient lines at fixed x: returns (y_{t+1}, z_{t+1}, h_t)."""
        if self.jacobian == "next":  # released code: y first, then grad_y F, z and the Jacobian at y_{t+1}
            hz = oracle.hvp(x, y, z)
            y_new = self._lower(oracle, x, y)
            gx, gy = oracle.grad_f(x, y_new)
            z_new = z_sgd_step(z, hz, gy, self.nu, radius)
            return y_new, z_new, gx - oracle.jvp(x, y_new, z_new)
        gx, gy = oracle.grad_f(x, y)
        if self.z_update == "exact":  # reference run: z_t solved exactly, no hvp call
            z_new = exact_solve(oracle.problem, x, y, gy)
            jz = oracle.jvp(x, y, z_new)
        else:
            hz, jz = oracle.hvp_jvp(x, y, z)
            z_new = z_sgd_step(z, hz, gy, self.nu, radius)
        return self._lower(oracle, x, y), z_new, gx - jz

    def _lower(self, oracle, x, y):
        """One SGD step (paper), or 1 + lower_accumulate steps with accumulated gradients (released code)."""
        if self.lower_accumulate:
            return accumulated_sgd_steps(oracle, x, y, self.gamma, 1 + self.lower_accumulate)
        return y - self.gamma * oracle.grad_g(x, y)
