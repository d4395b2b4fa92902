"""F2SA: fully first-order penalty method (baseline).

J. Kwon, D. Kwon, S. Wright, R. Nowak, "A Fully First-Order Method for Stochastic Bilevel Optimization",
ICML 2023. With the penalty L_lam(x, y) = f(x, y) + lam (g(x, y) - g(x, z*))::

    lam_t   = lam0 + t lam_step                                      # as the released code's increments
    z_{t+1} = z_t - gamma grad_y G(x_t, z_t; zeta'_t)                 # tracks argmin g
    y_{t+1} = y_t - gamma (grad_y F(x_t, y_t; xi_t) / lam_t + grad_y G(x_t, y_t; zeta_t))   # argmin f/lam + g
    x_{t+1} = x_t - alpha (grad_x F(x_t, y_t; xi_t) + lam_t [grad_x G(x_t, y_t; zeta_t) - grad_x G(x_t, z_t; zeta'_t)])

The x-gradient is the paper's first-order estimator: two independent first-order samples of g, so its
noise grows like lam sigma_g1 as the analysis has it. Each ``grad_g_xy`` call returns (grad_x G, grad_y G)
from one sample and counts as one grad_g call (the paper counts first-order gradient calls): an
iteration costs 1 grad_f and 2 grad_g, no second-order call.
Departures, stated: (1) the y step is gamma / lam_t times the paper's gradient of f + lam g, so one
gamma <= 1/l_g1 stays stable as lam grows; (2) one inner step per outer step (the paper's inner loop of
several steps is ``lower`` repeated; a reconstruction). Option ``penalty_gradient = "jvp"`` (off by
default, the previous toolkit form): grad_x G(x, y) - grad_x G(x, z) as one Jacobian-vector product at the
midpoint, exact in the mean when grad_x g is at most quadratic in y, but its noise sigma_g2 ||y - z|| ~ 1/lam
does not grow with lam (it spends a second-order call). F2SA's z is the lower copy, not the
linear-system variable, so it is kept in ``aux`` and the trace's z_error is NaN.
Guarantee (bounded smoothness): O~(eps^-7) stochastic first-order calls (O~(eps^-5) in the improved analysis).

Hyperparameters:
    alpha             upper SGD step size
    gamma             step size of both lower copies
    lam0              initial penalty lambda
    lam_step          increase of lambda per iteration
    penalty_gradient  "first_order" (paper: two grad_x G samples) or "jvp" (midpoint JVP, see above)
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
    penalty_gradient: str = "first_order"

    name: ClassVar[str] = "f2sa"
    _choices: ClassVar[dict] = {"penalty_gradient": ("first_order", "jvp")}
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
        if self.penalty_gradient == "first_order":
            gx_y, gy_y = oracle.grad_g_xy(s.x, s.y)
            gx_z, gy_z = oracle.grad_g_xy(s.x, z)
            gap = gx_y - gx_z
        else:
            gy_z, gy_y = oracle.grad_g(s.x, z), oracle.grad_g(s.x, s.y)
            gap = oracle.jvp(s.x, 0.5 * (s.y + z), s.y - z)
        h = gx + lam * gap
        return State(x=upper.sgd(s.x, h, self.alpha), y=s.y - self.gamma * (gy / lam + gy_y), h=h,
                     aux={"lower": z - self.gamma * gy_z}, t=s.t + 1)
