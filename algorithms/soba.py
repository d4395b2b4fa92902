"""SOBA and MA-SOBA: single-loop SGD on (y, z, x) (baselines).

SOBA: M. Dagreou, P. Ablin, S. Vaiter, T. Moreau, "A Framework for Bilevel Optimization that Enables
Stochastic and Global Variance Reduction Algorithms", NeurIPS 2022. MA-SOBA: X. Chen, T. Xu, Y. Zhang,
"Optimal Algorithms for Stochastic Bilevel Optimization under Relaxed Smoothness Conditions",
arXiv:2306.12067, 2023 (moving average of the hypergradient, z projected on a ball)::

    h_t     = grad_x F(x_t, y_t; xi_t) - grad2_xy G(x_t, y_t; zeta_t) z_t
    m_t     = beta m_{t-1} + (1 - beta) h_t          # MA-SOBA only (beta weighs the old average);
                                                    # SOBA is beta = 0 (m_t = h_t)
    x_{t+1} = x_t - alpha m_t                         # no normalization
    y_{t+1} = y_t - gamma grad_y G(x_t, y_t; pi_t)
    z_{t+1} = Pi_{||z|| <= R}( z_t - nu [grad2_yy G(x_t, y_t; zeta_t) z_t - grad_y F(x_t, y_t; xi_t)] )

With z <-> -v this is SOBA's sign convention [confirmed against SOBA's updates]. Reconstructed for
MA-SOBA: the x step on the updated average m_t (the paper may use the previous one: a one-step index
difference) and the radius l_f0 / mu.
Oracle calls per iteration: 1 grad_f, 1 fused hvp+jvp, 1 grad_g (as SLIP).
Step sizes: constant (``schedule="constant"``, default) or, with ``schedule="inv_sqrt"``, alpha, gamma and nu
all multiplied by 1/sqrt(t + 1) at iteration t = 0, 1, ...: the decreasing steps of SOBA's analysis
(Dagreou et al. 2022, Theorem 1), the default of benchopt's benchmark_bilevel.
Guarantees (bounded smoothness): SOBA O(eps^-4) with mean-square smooth oracles (E||grad Phi||^2);
MA-SOBA O(eps^-4) without higher-order smoothness. Neither covers (L0, L1)-smoothness.

Hyperparameters:
    alpha     upper SGD step size
    gamma     lower-level SGD step size
    nu        z-SGD step size
    schedule  "constant" (default) or "inv_sqrt": alpha, gamma, nu times 1/sqrt(t + 1)
    beta      (MA-SOBA) moving-average weight of the old average, in [0, 1)
    z_radius  (MA-SOBA) z-projection radius: "paper" (default: l_f0 / mu from the problem's certified
              constants; none when the problem has none), a number, or inf (no projection)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, RADIUS, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import resolve_z_radius, z_sgd_step
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

    def _average(self, m, h):
        """SOBA steps along h_t itself (beta = 0: m_t = h_t)."""
        return h

    def _radius(self, oracle) -> float:
        return math.inf

    def init(self, oracle, x0, y0) -> State:
        return State(x=x0, y=y0, z=torch.zeros_like(y0), m=torch.zeros_like(x0))

    def step(self, oracle, s: State) -> State:
        decay = 1.0 if self.schedule == "constant" else 1.0 / math.sqrt(s.t + 1)
        gx, gy = oracle.grad_f(s.x, s.y)
        hz, jz = oracle.hvp_jvp(s.x, s.y, s.z)
        h = gx - jz
        m = self._average(s.m, h)
        y = s.y - decay * self.gamma * oracle.grad_g(s.x, s.y)
        z = z_sgd_step(s.z, hz, gy, decay * self.nu, self._radius(oracle))
        return State(x=upper.sgd(s.x, m, decay * self.alpha), y=y, z=z, m=m, h=h, t=s.t + 1)


@dataclass(frozen=True)
class MASOBA(SOBA):
    beta: float = 0.9
    z_radius: float | str = "paper"

    name: ClassVar[str] = "ma_soba"
    _reals: ClassVar[dict] = {**SOBA._reals, "beta": UNIT_RIGHT_OPEN}
    _auto: ClassVar[dict] = {"z_radius": ("paper", RADIUS)}

    def _average(self, m, h):
        """m_t = beta m_{t-1} + (1 - beta) h_t."""
        return upper.momentum(m, h, self.beta)

    def _radius(self, oracle) -> float:
        return resolve_z_radius(self.z_radius, oracle.problem)
