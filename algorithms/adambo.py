"""AdamBO: Adam on the upper level with a Neumann hypergradient, SGD with warm start on the lower level.

X. Gong, J. Hao, M. Liu, "On the Convergence of Adam-Type Algorithm for Bilevel Optimization under
Unbounded Smoothness", TMLR 2026 (arXiv:2503.03908). [confirmed] from the paper's abstract and reviews:
single loop, vanilla Adam on x in the notation of H. Li, A. Rakhlin, A. Jadbabaie, "Convergence of Adam
under Relaxed Assumptions", NeurIPS 2023 (beta = 1 - beta1 weighs the new gradient, lam is Adam's
epsilon outside the root), SGD with warm start on y, a Neumann-series hypergradient. Reconstructed (the
paper's text could not be re-read): the indices, the Neumann form (StocBiO's), the order of the y step::

    y_1 <- T0 SGD steps on g(x_1, .)                                          # warm start
    for t = 1, ..., T:
        p_t     = (1/C) sum_{q=0}^{Q-1} prod_{j=1}^{q} (I - grad2_yy G(x_t, y_t; zeta_{q,j}) / C) grad_y F(x_t, y_t; xi_t)
        h_t     = grad_x F(x_t, y_t; xi_t) - grad2_xy G(x_t, y_t; zeta_0) p_t
        m_t     = (1 - beta) m_{t-1} + beta h_t                  # beta = 1 - beta1 weighs the NEW gradient
        v_t     = (1 - beta_sq) v_{t-1} + beta_sq h_t^2
        x_{t+1} = x_t - eta mhat_t / (sqrt(vhat_t) + lam),  mhat_t = m_t / (1 - (1-beta)^t), vhat_t = v_t / (1 - (1-beta_sq)^t)
        y_{t+1} = y_t - gamma grad_y G(x_t, y_t; pi_t)

Bias correction (``adam = "corrected"``, the default): Li, Rakhlin and Jadbabaie's Algorithm 1, whose
notation and analysis AdamBO follows, corrects both moments. Whether AdamBO's own algorithm box does is
not confirmed (its text could not be re-read); the uncorrected form is ``adam = "uncorrected"``. The two
differ for about 1/beta_sq steps: at beta = beta_sq = 1e-3 and a constant gradient the first step of the
uncorrected form is about 100 times shorter. The released code uses torch.optim.Adam: ``adam = "torch"``
(bias-corrected, with coupled weight decay ``weight_decay``, 0.01 in the code).
The Neumann product is the recursive form v_q = (I - H_q/C) v_{q-1} with one fresh sample per term
(as StocBiO), so an iteration costs 1 grad_f, Q - 1 hvp, 1 jvp and 1 grad_g; warm start T0 grad_g.
Per-coordinate step bound (any realisation): algorithms.upper.adam_step_bound.
Guarantee (AdamBO, abstract and reviews): with probability >= 1 - delta, (1/T) sum_t ||grad Phi(x_t)|| <= eps
after O~(eps^-4) calls, polynomial in 1/lam, with beta = Theta~(eps^2), beta <= O(lam), eta <= O(lam^1.5 beta);
needs per-sample strong convexity of G. Constants: theory/parameters.py ``adambo``.

Hyperparameters:
    eta              Adam step size
    beta             weight of the new gradient in the first moment (1 - beta1), in (0, 1]
    beta_sq          weight of the new squared gradient in the second moment (1 - beta2), in (0, 1]
    lam              Adam's epsilon, added outside the square root (> 0)
    gamma            lower-level SGD step size
    warm_start       SGD steps on y at x_0 before the first iteration (T0)
    neumann_scale    Neumann scale C (converges for C >= l_g1 / 2; the bias bound needs C >= l_g1)
    neumann_terms    Neumann terms Q (Q - 1 Hessian-vector products)
    neumann_drop_q0  released-code Neumann sum (hypergradient.neumann): q = 0 dropped, q = Q counted twice
    adam             "corrected" (default), "uncorrected" or "torch" (see above)
    weight_decay     coupled L2 weight decay, only with adam = "torch"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import NONNEG, POSITIVE, UNIT_LEFT_OPEN, Algorithm
from ubo.algorithms.hypergradient import neumann_hypergradient
from ubo.algorithms.lower import sgd_steps
from ubo.algorithms.state import State


@dataclass(frozen=True)
class AdamBO(Algorithm):
    eta: float = 1e-2
    beta: float = 0.1
    beta_sq: float = 0.001
    lam: float = 1e-2
    gamma: float = 0.1
    warm_start: int = 0
    neumann_scale: float | str = "problem"
    neumann_terms: int = 10
    neumann_drop_q0: bool = False
    adam: str = "corrected"
    weight_decay: float = 0.0

    name: ClassVar[str] = "adambo"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_LEFT_OPEN, "beta_sq": UNIT_LEFT_OPEN, "lam": POSITIVE,
                              "gamma": POSITIVE, "weight_decay": NONNEG}
    _auto: ClassVar[dict] = {"neumann_scale": ("problem", POSITIVE)}
    _ints: ClassVar[dict] = {"warm_start": 0, "neumann_terms": 1}
    _choices: ClassVar[dict] = {"adam": ("corrected", "uncorrected", "torch")}
    _flags: ClassVar[tuple] = ("neumann_drop_q0",)

    def __post_init__(self):
        super().__post_init__()
        if self.weight_decay and self.adam != "torch":
            raise ValueError(f"weight_decay must be 0 unless adam='torch' (Li et al.'s Adam has none), "
                             f"got {self.weight_decay!r}")

    def init(self, oracle, x0, y0) -> State:
        y = sgd_steps(oracle, x0, y0, self.gamma, self.warm_start)
        return State(x=x0, y=y, m=torch.zeros_like(x0), aux={"v": torch.zeros_like(x0)})

    def step(self, oracle, s: State) -> State:
        h = neumann_hypergradient(oracle, s.x, s.y, self.neumann_scale, self.neumann_terms, self.neumann_drop_q0)
        if self.adam == "corrected":
            x, m, v = upper.adam_corrected(s.x, s.m, s.aux["v"], h, s.t + 1, self.eta, self.beta, self.beta_sq,
                                           self.lam)
        elif self.adam == "uncorrected":
            x, m, v = upper.adam_uncorrected(s.x, s.m, s.aux["v"], h, self.eta, self.beta, self.beta_sq, self.lam)
        else:
            x, m, v = upper.adam_torch(s.x, s.m, s.aux["v"], h, s.t + 1, self.eta, self.beta, self.beta_sq,
                                       self.lam, self.weight_decay)
        y = s.y - self.gamma * oracle.grad_g(s.x, s.y)
        return State(x=x, y=y, m=m, h=h, aux={"v": v}, t=s.t + 1)
