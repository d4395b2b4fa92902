"""SOBA and MA-SOBA: single-loop SGD on (y, z, x) (baselines).

SOBA: Dagreou, Ablin, Vaiter, Moreau, "A framework for bilevel optimization that enables stochastic
and global variance reduction algorithms", NeurIPS 2022. MA-SOBA: Chen, Xiao, Balasubramanian,
"Optimal algorithms for stochastic bilevel optimization under relaxed smoothness conditions", 2023
(papers.md section 6)::

    h_t     = grad_x F(x_t, y_t; xi_t) - grad2_xy G(x_t, y_t; zeta_t) z_t
    m_t     = beta m_{t-1} + (1 - beta) h_t          # MA-SOBA only (beta weighs the old average);
                                                    # SOBA is beta = 0 (m_t = h_t)
    x_{t+1} = x_t - alpha m_t                         # no normalization
    y_{t+1} = y_t - gamma grad_y G(x_t, y_t; pi_t)
    z_{t+1} = Pi_{||z|| <= R}( z_t - nu [grad2_yy G(x_t, y_t; zeta_t) z_t - grad_y F(x_t, y_t; xi_t)] )

Oracle calls per iteration: 1 grad_f, 1 fused hvp+jvp, 1 grad_g (as SLIP).
Step sizes: constant (``schedule="constant"``, default) or, with ``schedule="inv_sqrt"``, alpha, gamma and nu
all multiplied by 1/sqrt(t + 1) at iteration t = 0, 1, ...: the decreasing steps of SOBA's analysis
(Dagreou et al. 2022, Theorem 1), the default of benchopt's benchmark_bilevel.
Guarantees (bounded smoothness): SOBA O(eps^-4) with mean-square smooth oracles (E||grad Phi||^2);
MA-SOBA O(eps^-4) without higher-order smoothness. Neither covers (L0, L1)-smoothness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, RADIUS, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import z_sgd_step
from ubo.algorithms.state import State


@dataclass(frozen=True)
class SOBA(Algorithm):
    alpha: float = 1e-2
    gamma: float = 0.1
    nu: float = 0.1
    schedule: str = "constant"

    name: ClassVar[str] = "soba"
    _reals: ClassVar[dict] = {"alpha": POSITIVE, "gamma": POSITIVE, "nu": POSITIVE}
    _choices: ClassVar[dict] = {"schedule": ("constant", "inv_sqrt")}

    def _beta(self) -> float:
        return 0.0

    def _radius(self) -> float:
        return math.inf

    @classmethod
    def from_theory(cls, constants, eps: float, delta: float = 0.1, **options) -> "SOBA":
        """Parameters from theory/parameters.py ``soba`` (toolkit choices for a bounded-smooth analysis)."""
        from ubo.theory.parameters import soba
        return cls(**soba(constants, eps, delta, **options))

    def init(self, oracle, x0, y0) -> State:
        return State(x=x0, y=y0, z=torch.zeros_like(y0), m=torch.zeros_like(x0))

    def step(self, oracle, s: State) -> State:
        decay = 1.0 if self.schedule == "constant" else 1.0 / math.sqrt(s.t + 1)
        gx, gy = oracle.grad_f(s.x, s.y)
        hz, jz = oracle.hvp_jvp(s.x, s.y, s.z)
        h = gx - jz
        m = upper.momentum(s.m, h, self._beta())
        y = s.y - decay * self.gamma * oracle.grad_g(s.x, s.y)
        z = z_sgd_step(s.z, hz, gy, decay * self.nu, self._radius())
        return State(x=upper.sgd(s.x, m, decay * self.alpha), y=y, z=z, m=m, h=h, t=s.t + 1)


@dataclass(frozen=True)
class MASOBA(SOBA):
    beta: float = 0.9
    z_radius: float = math.inf

    name: ClassVar[str] = "ma_soba"
    _reals: ClassVar[dict] = {**SOBA._reals, "beta": UNIT_RIGHT_OPEN, "z_radius": RADIUS}

    @classmethod
    def from_theory(cls, constants, eps: float, delta: float = 0.1, **options) -> "MASOBA":
        """Parameters from theory/parameters.py ``ma_soba``."""
        from ubo.theory.parameters import ma_soba
        return cls(**ma_soba(constants, eps, delta, **options))

    def _beta(self) -> float:
        return self.beta

    def _radius(self) -> float:
        return self.z_radius
