"""StocBiO: double loop with warm-started inner SGD and a Neumann hypergradient (baseline).

K. Ji, J. Yang, Y. Liang, "Bilevel Optimization: Convergence Analysis and Enhanced Design", ICML 2021::

    for k = 0, ..., K-1:
        y_k = D SGD steps on g(x_k, .) from y_{k-1}                         # warm start
        h_k = grad_x F(x_k, y_k) - grad2_xy G(x_k, y_k) (1/C) sum_{q<Q} prod_j (I - H_j/C) grad_y F(x_k, y_k)
        x_{k+1} = x_k - alpha h_k

``neumann_terms`` is StocBiO's Q + 1 (Ji et al. sum Q + 1 terms built from Q Hessian-vector products).
Toolkit choice: batch size 1 per call (the oracle has no batch size); ``from_theory`` compensates with
alpha ~ eps^2 and D ~ eps^-2 instead of StocBiO's large batches.
Oracle calls per iteration: D grad_g, 1 grad_f, Q - 1 hvp, 1 jvp. Guarantee (bounded smoothness,
mean-square smooth oracles): E||grad Phi||^2 <= eps^2 after O~(eps^-4) calls; no (L0, L1) guarantee.
Option (off by default): ``neumann_drop_q0``, the released code's Neumann sum (q = 0 dropped, v_Q counted
twice; algorithms.hypergradient). The released code's "Fx + Jacobian" tuple concatenation (which discards
the implicit term) is not reproduced.

Hyperparameters:
    alpha            upper SGD step size
    gamma            lower-level SGD step size
    lower_steps      D: warm-started SGD steps on y per outer iteration
    neumann_scale    Neumann scale C: "problem" (default: the problem's l_g1) or a number >= l_g1 / 2
    neumann_terms    Neumann terms Q (Q - 1 Hessian-vector products)
    neumann_drop_q0  the released code's Neumann sum
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, Algorithm
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.algorithms.lower import sgd_steps
from ubo.algorithms.state import State


@dataclass(frozen=True)
class StocBiO(Algorithm):
    alpha: float = 1e-2
    gamma: float = 0.1
    lower_steps: int = 3
    neumann_scale: float | str = "problem"
    neumann_terms: int = 5
    neumann_drop_q0: bool = False

    name: ClassVar[str] = "stocbio"
    _reals: ClassVar[dict] = {"alpha": POSITIVE, "gamma": POSITIVE}
    _auto: ClassVar[dict] = {"neumann_scale": ("problem", POSITIVE)}
    _ints: ClassVar[dict] = {"lower_steps": 1, "neumann_terms": 1}
    _flags: ClassVar[tuple] = ("neumann_drop_q0",)

    def init(self, oracle, x0, y0) -> State:
        return State(x=x0, y=y0)

    def step(self, oracle, s: State) -> State:
        y = sgd_steps(oracle, s.x, s.y, self.gamma, self.lower_steps)
        h = neumann_hypergradient(oracle, s.x, y, self.neumann_scale, self.neumann_terms, self.neumann_drop_q0)
        return State(x=upper.sgd(s.x, h, self.alpha), y=y, h=h, t=s.t + 1)
