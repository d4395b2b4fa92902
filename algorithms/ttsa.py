"""TTSA: two-timescale stochastic approximation (baseline).

M. Hong, H.-T. Wai, Z. Wang, Z. Yang, "A Two-Timescale Stochastic Algorithm Framework for Bilevel
Optimization: Complexity Analysis and Application to Actor-Critic", SIAM J. Optim. 2023::

    for k = 0, ..., K-1:
        y_{k+1} = y_k - gamma grad_y G(x_k, y_k; pi_k)                       # fast timescale
        h_k     = grad_x F(x_k, y_{k+1}) - grad2_xy G(x_k, y_{k+1}) p_k,  p_k the Neumann series
        x_{k+1} = x_k - alpha h_k                                            # slow timescale

The paper's nonconvex step sizes for horizon K are constants alpha ~ K^-3/5, gamma ~ K^-2/5 (set them
so). The paper draws a random truncation depth; like the released baselines this uses the full
Q-term series, which keeps every run's oracle count identical.
Oracle calls per iteration: 1 grad_g, 1 grad_f, Q - 1 hvp, 1 jvp.
Guarantee (bounded smoothness): E||grad Phi||^2 = O(K^-2/5); no (L0, L1) guarantee.

Hyperparameters:
    alpha          upper SGD step size (slow timescale)
    gamma          lower-level SGD step size (fast timescale)
    neumann_scale  Neumann scale C: "problem" (default: the problem's l_g1) or a number >= l_g1 / 2
    neumann_terms  Neumann terms Q (Q - 1 Hessian-vector products)
    neumann_drop_q0  the released code's Neumann sum (q = 0 dropped, v_Q counted twice)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, Algorithm
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.algorithms.state import State


@dataclass(frozen=True)
class TTSA(Algorithm):
    alpha: float = 1e-2
    gamma: float = 0.1
    neumann_scale: float | str = "problem"
    neumann_terms: int = 5
    neumann_drop_q0: bool = False

    name: ClassVar[str] = "ttsa"
    _reals: ClassVar[dict] = {"alpha": POSITIVE, "gamma": POSITIVE}
    _auto: ClassVar[dict] = {"neumann_scale": ("problem", POSITIVE)}
    _ints: ClassVar[dict] = {"neumann_terms": 1}
    _flags: ClassVar[tuple] = ("neumann_drop_q0",)

    def init(self, oracle, x0, y0) -> State:
        return State(x=x0, y=y0)

    def step(self, oracle, s: State) -> State:
        y = s.y - self.gamma * oracle.grad_g(s.x, s.y)
        h = neumann_hypergradient(oracle, s.x, y, self.neumann_scale, self.neumann_terms, self.neumann_drop_q0)
        return State(x=upper.sgd(s.x, h, self.alpha), y=y, h=h, t=s.t + 1)
