"""AccBO: normalized STORM momentum on x, stochastic Nesterov with averaging on y (baseline).

X. Gong, J. Hao, M. Liu, "An Accelerated Algorithm for Stochastic Bilevel Optimization under Unbounded
Smoothness", NeurIPS 2024 (arXiv:2409.19212). The paper's details (indices, the exact Neumann truncation)
could not be checked against its text; the update forms below follow its abstract [confirmed: normalized
recursive momentum, Nesterov with averaging, Neumann hypergradient], STORM (Cutkosky and Orabona,
NeurIPS 2019) and the released code (Nesterov and averaging forms)::

    warm start: T0 Nesterov steps at x_0
    for t = 0, ..., T-1:
        w       = y_t + theta (y_t - y_{t-1});   y_{t+1} = w - gamma grad_y G(x_t, w)   (lower_steps times)
        yhat_t  = (1 - tau) yhat_{t-1} + tau y_{t+1}                                     # averaging
        h_t     = h(x_t, yhat_t; xibar_t)          Neumann hypergradient, fresh samples xibar_t
        g_t     = h(x_{t-1}, yhat_{t-1}; xibar_t)  the SAME samples at the previous point (t >= 1)
        m_t     = beta m_{t-1} + (1 - beta) h_t + beta (h_t - g_t)      # = h_t + beta (m_{t-1} - g_t)
        x_{t+1} = x_t - eta m_t / ||m_t||                               # per run (the code: per tensor)

m_0 = h_0 (no previous point). The same-sample estimate g_t replays h_t's draws at the previous point
(``Oracle.recording`` / ``Oracle.replaying``) and is counted: from t = 1 an iteration costs twice the
Neumann estimator. With ``momentum = "released"`` (the released code) g_t is the previous iteration's
estimate h_{t-1} on its own samples; with m_{-1} = h_{-1} = 0 that recursion gives m_t = h_t exactly for
every beta (m_t - h_t = beta (m_{t-1} - h_{t-1}) = 0): plain normalized SGD, no variance reduction.
Reconstruction, not checked against the paper: the full Q-term Neumann series of StocBiO (the released
code draws one random term without the factor Q).
Oracle calls per iteration: lower_steps grad_g, then the Neumann estimator (1 grad_f, Q - 1 hvp, 1 jvp)
once at t = 0 and twice from t = 1 ("storm"); warm start T0 grad_g.
Guarantee (AccBO, abstract): O~(eps^-3) oracle calls under per-realization (mean-square) smoothness
and O(eps) lower-level gradient variance; ``from_theory`` uses the STORM orders 1 - beta = Theta(eps^2),
eta = Theta(eps^2) (theory/parameters.py ``accbo``).

Hyperparameters:
    eta            upper step length (every step moves x by exactly eta)
    beta           STORM momentum weight of the old estimate, in [0, 1)
    gamma          lower-level (Nesterov) step size
    theta          Nesterov extrapolation weight, in [0, 1)
    tau            averaging weight of the new lower iterate, in (0, 1]
    lower_steps    Nesterov steps per outer iteration (>= 1)
    warm_start     Nesterov steps at x_0 before the first iteration (T0)
    neumann_scale  Neumann scale C (needs C >= l_g1 / 2 to converge; C >= l_g1 for the bias bound)
    neumann_terms  Neumann terms Q (Q - 1 Hessian-vector products)
    momentum       "storm" (paper: same sample at both points) or "released" (previous estimate)
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
    neumann_scale: float | str = "problem"
    neumann_terms: int = 5
    momentum: str = "storm"

    name: ClassVar[str] = "accbo"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_RIGHT_OPEN, "gamma": POSITIVE,
                              "theta": UNIT_RIGHT_OPEN, "tau": UNIT_LEFT_OPEN}
    _auto: ClassVar[dict] = {"neumann_scale": ("problem", POSITIVE)}
    _ints: ClassVar[dict] = {"lower_steps": 1, "warm_start": 0, "neumann_terms": 1}
    _choices: ClassVar[dict] = {"momentum": ("storm", "released")}

    def _lower(self, oracle, x, w, w_prev, avg, steps):
        for _ in range(steps):
            w, w_prev, avg = nesterov_step(oracle, x, w, w_prev, avg, self.gamma, self.theta, self.tau)
        return w, w_prev, avg

    def _estimate(self, oracle, x, y):
        return neumann_hypergradient(oracle, x, y, self.neumann_scale, self.neumann_terms)

    def init(self, oracle, x0, y0) -> State:
        w, w_prev, _ = self._lower(oracle, x0, y0, y0, y0, self.warm_start)
        zero = torch.zeros_like(x0)
        return State(x=x0, y=w, m=zero, aux={"w": w, "w_prev": w_prev, "h_prev": zero, "x_prev": x0, "y_prev": w})

    def step(self, oracle, s: State) -> State:
        w, w_prev, y = self._lower(oracle, s.x, s.aux["w"], s.aux["w_prev"], s.y, self.lower_steps)
        if self.momentum == "released":
            h = self._estimate(oracle, s.x, y)
            m = upper.recursive_momentum(s.m, h, s.aux["h_prev"], self.beta)
        elif s.t == 0:  # no previous point: m_0 = h_0
            h = m = self._estimate(oracle, s.x, y)
        else:
            with oracle.recording() as tape:
                h = self._estimate(oracle, s.x, y)
            with oracle.replaying(tape):
                g = self._estimate(oracle, s.aux["x_prev"], s.aux["y_prev"])
            m = upper.recursive_momentum(s.m, h, g, self.beta)
        return State(x=upper.normalized_step(s.x, m, self.eta), y=y, m=m, h=h,
                     aux={"w": w, "w_prev": w_prev, "h_prev": h, "x_prev": s.x, "y_prev": y}, t=s.t + 1)
