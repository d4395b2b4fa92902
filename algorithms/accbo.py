"""AccBO: normalized recursive momentum on x, stochastic Nesterov with averaging on y (baseline).

Gong, Hao, Liu, "An Accelerated Algorithm for Stochastic Bilevel Optimization under Unbounded
Smoothness", NeurIPS 2024 (papers.md section 5; details [R], update forms of the released code)::

    warm start: T0 Nesterov steps at x_0
    for t = 0, ..., T-1:
        w       = y_t + theta (y_t - y_{t-1});   y_{t+1} = w - gamma grad_y G(x_t, w)   (lower_steps times)
        yhat    = (1 - tau) yhat + tau y_{t+1}                                            # averaging
        h_t     = Neumann hypergradient at (x_t, yhat)
        m_t     = beta m_{t-1} + (1 - beta) h_t + beta (h_t - h_{t-1})     # recursive momentum (code form)
        x_{t+1} = x_t - eta m_t / ||m_t||                                   # per run (the code: per tensor)

The trace's y is the averaged yhat (the point the estimator uses). Departures, stated: the code draws
one random Neumann term without the Q factor (papers.md section 7 item 9); here the full Q-term series.
Classical STORM re-evaluates one sample at both points; the code (and this) uses the previous
iteration's estimate h_{t-1}.
Oracle calls per iteration: lower_steps grad_g, 1 grad_f, Q - 1 hvp, 1 jvp; warm start T0 grad_g.
Guarantee: O~(eps^-3) oracle calls under per-realization smoothness and O(eps) lower-level variance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, UNIT_LEFT_OPEN, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.algorithms.lower import nesterov_step
from ubo.algorithms.state import State


@dataclass(frozen=True)
class AccBO(Algorithm):
    eta: float = 1e-2
    beta: float = 0.9
    gamma: float = 0.1
    theta: float = 0.5
    tau: float = 0.5
    lower_steps: int = 1
    warm_start: int = 0
    neumann_scale: float = 10.0
    neumann_terms: int = 5

    name: ClassVar[str] = "accbo"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_RIGHT_OPEN, "gamma": POSITIVE,
                              "theta": UNIT_RIGHT_OPEN, "tau": UNIT_LEFT_OPEN, "neumann_scale": POSITIVE}
    _ints: ClassVar[dict] = {"lower_steps": 1, "warm_start": 0, "neumann_terms": 1}

    @classmethod
    def from_theory(cls, constants, eps: float, delta: float = 0.1, **options) -> "AccBO":
        """Parameters from theory/parameters.py ``accbo`` (toolkit choices; the paper's constants are [U])."""
        from ubo.theory.parameters import accbo
        return cls(**accbo(constants, eps, delta, **options))

    def _lower(self, oracle, x, w, w_prev, avg, steps):
        for _ in range(steps):
            w, w_prev, avg = nesterov_step(oracle, x, w, w_prev, avg, self.gamma, self.theta, self.tau)
        return w, w_prev, avg

    def init(self, oracle, x0, y0) -> State:
        w, w_prev, _ = self._lower(oracle, x0, y0, y0, y0, self.warm_start)
        zero = torch.zeros_like(x0)
        return State(x=x0, y=w, m=zero, aux={"w": w, "w_prev": w_prev, "h_prev": zero})

    def step(self, oracle, s: State) -> State:
        w, w_prev, y = self._lower(oracle, s.x, s.aux["w"], s.aux["w_prev"], s.y, self.lower_steps)
        h = neumann_hypergradient(oracle, s.x, y, self.neumann_scale, self.neumann_terms)
        m = upper.recursive_momentum(s.m, h, s.aux["h_prev"], self.beta)
        return State(x=upper.normalized_step(s.x, m, self.eta), y=y, m=m, h=h,
                     aux={"w": w, "w_prev": w_prev, "h_prev": h}, t=s.t + 1)
