"""F2SA: fully first-order penalty method (baseline).

Kwon, Kwon, Wright, Nowak, "A Fully First-Order Method for Stochastic Bilevel Optimization",
ICML 2023 (papers.md section 6). With the penalty L_lam(x, y) = f(x, y) + lam (g(x, y) - g(x, z*))::

    lam_t   = lam0 + t lam_step                                      # as the released code's increments
    z_{t+1} = z_t - gamma grad_y G(x_t, z_t)                          # tracks argmin g
    y_{t+1} = y_t - gamma (grad_y F(x_t, y_t) / lam_t + grad_y G(x_t, y_t))   # tracks argmin f/lam + g
    x_{t+1} = x_t - alpha (grad_x F(x_t, y_t) + lam_t [grad_x G(x_t, y_t) - grad_x G(x_t, z_t)])

Departures, stated: (1) the y step is gamma / lam_t times the paper's gradient of f + lam g, so one
gamma <= 1/l_g1 stays stable as lam grows; (2) the oracle protocol has no grad_x G, so the difference
grad_x G(x, y) - grad_x G(x, z) = int_0^1 grad2_xy G(x, z + s (y - z)) (y - z) ds is taken as one
Jacobian-vector product at the midpoint (exact whenever grad_x g is at most quadratic in y, since the
midpoint rule integrates an affine integrand exactly: true for every synthetic family here). Here
F2SA's z is the lower copy, not the linear-system variable, so it is kept in ``aux`` and the trace's
z_error is NaN.
Oracle calls per iteration: 1 grad_f, 2 grad_g, 1 jvp. Guarantee (bounded smoothness): O~(eps^-7)
stochastic first-order calls (O~(eps^-5) in the improved analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ubo.algorithms import upper
from ubo.algorithms.base import NONNEG, POSITIVE, Algorithm
from ubo.algorithms.state import State


@dataclass(frozen=True)
class F2SA(Algorithm):
    alpha: float = 1e-2
    gamma: float = 0.1
    lam0: float = 1.0
    lam_step: float = 0.01

    name: ClassVar[str] = "f2sa"
    _reals: ClassVar[dict] = {"alpha": POSITIVE, "gamma": POSITIVE, "lam0": POSITIVE, "lam_step": NONNEG}

    @classmethod
    def from_theory(cls, constants, eps: float, delta: float = 0.1, **options) -> "F2SA":
        raise NotImplementedError("F2SA has no from_theory here: its lambda schedule and step sizes depend on "
                                  "mean-square smoothness constants the Constants record does not carry")

    def init(self, oracle, x0, y0) -> State:
        return State(x=x0, y=y0, aux={"lower": y0})

    def step(self, oracle, s: State) -> State:
        lam = self.lam0 + s.t * self.lam_step
        z = s.aux["lower"]
        gx, gy = oracle.grad_f(s.x, s.y)
        z_new = z - self.gamma * oracle.grad_g(s.x, z)
        y_new = s.y - self.gamma * (gy / lam + oracle.grad_g(s.x, s.y))
        gap = oracle.jvp(s.x, 0.5 * (s.y + z), s.y - z)
        h = gx + lam * gap
        return State(x=upper.sgd(s.x, h, self.alpha), y=y_new, h=h, aux={"lower": z_new}, t=s.t + 1)
