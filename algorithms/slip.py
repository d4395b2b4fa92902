"""SLIP: single-loop normalized momentum for bilevel problems under unbounded smoothness.

Gong, Hao, Liu, "A Nearly Optimal Single Loop Algorithm for Stochastic Bilevel Optimization under
Unbounded Smoothness", ICML 2024 (papers.md section 3). Pseudocode as reconstructed in papers.md
section 3.1 ([R] for indices, projection and the order inside an iteration; the choices here:
every oracle at (x_t, y_t, z_t), h_t uses z_t, the z-projection radius l_f0/mu)::

    y <- y_init;  repeat T0 times: y <- y - gamma grad_y G(x_0, y; pi~)      # warm start at x_0
    for t = 0, ..., T-1:
        h_t     = grad_x F(x_t, y_t; xi_t) - grad2_xy G(x_t, y_t; zeta_t) z_t
        m_t     = beta m_{t-1} + (1 - beta) h_t                 # m_{-1} = 0; beta weighs the old momentum
        x_{t+1} = x_t - eta m_t / ||m_t||
        y_{t+1} = y_t - gamma grad_y G(x_t, y_t; pi_t)
        z_{t+1} = Pi_{||z|| <= R}( z_t - nu [grad2_yy G(x_t, y_t; zeta_t) z_t - grad_y F(x_t, y_t; xi_t)] )

Oracle calls per iteration: 1 grad_f (xi), 1 fused hvp+jvp (zeta), 1 grad_g (pi); warm start T0 grad_g.
Guarantee: (1/T) sum_t ||grad Phi(x_t)|| <= eps in expectation and with probability >= 1 - delta
after O~(eps^-4) oracle calls, with 1-beta = Theta(eps^2), eta = Theta(eps^3), gamma, nu = Theta~(eps^2)
(theory/parameters.py ``slip`` states the constants chosen).

Reference runs: ``z_update = "exact"`` replaces the z-SGD line by z_t = [grad2_yy g(x_t, y_t)]^-1 grad_y F(x_t, y_t; xi_t)
(a dense solve with the problem's exact Hessian, no hvp call; not an oracle method) and uses that z_t in h_t,
so that what remains of the hypergradient error comes from y and the noise alone.

Options reproducing the released code (papers.md section 7, off by default): ``z_radius = inf``
(item 3: no projection), ``z_init = "random"`` (item 3: z_0 random, here N(0, 1/d_y) per entry from
the generator seeded by ``z_init_seed`` so all runs share it). Not offered, because they have no
meaning on the oracle protocol: the grad_x G contamination of "grad_x f" (item 1; the protocol has no
grad_x G), the accumulated lower-level gradients (item 2), the per-task momentum averaging (item 4);
the released step length xi = 0.08 is simply ``eta = 0.08``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, RADIUS, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import exact_solve, z_sgd_step
from ubo.algorithms.lower import sgd_steps
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
    z_radius: float = math.inf
    z_init: str = "zero"
    z_init_seed: int = 0
    z_update: str = "sgd"

    name: ClassVar[str] = "slip"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_RIGHT_OPEN, "gamma": POSITIVE, "nu": POSITIVE,
                              "z_radius": RADIUS}
    _ints: ClassVar[dict] = {"warm_start": 0, "z_init_seed": 0}
    _choices: ClassVar[dict] = {"z_init": ("zero", "random"), "z_update": ("sgd", "exact")}

    @classmethod
    def from_theory(cls, constants, eps: float, delta: float = 0.1, **options) -> "SLIP":
        from ubo.theory.parameters import slip
        return cls(**slip(constants, eps, delta, **options))

    def init(self, oracle, x0, y0) -> State:
        y = sgd_steps(oracle, x0, y0, self.gamma, self.warm_start)
        return State(x=x0, y=y, z=initial_z(y, self.z_init, self.z_init_seed), m=torch.zeros_like(x0))

    def step(self, oracle, s: State) -> State:
        gx, gy = oracle.grad_f(s.x, s.y)
        if self.z_update == "exact":  # reference run: z_t solved exactly, no hvp call
            z = exact_solve(oracle.problem, s.x, s.y, gy)
            jz = oracle.jvp(s.x, s.y, z)
        else:
            hz, jz = oracle.hvp_jvp(s.x, s.y, s.z)
            z = z_sgd_step(s.z, hz, gy, self.nu, self.z_radius)
        h = gx - jz
        m = upper.momentum(s.m, h, self.beta)
        x = upper.normalized_step(s.x, m, self.eta)
        y = s.y - self.gamma * oracle.grad_g(s.x, s.y)
        return State(x=x, y=y, z=z, m=m, h=h, t=s.t + 1)
