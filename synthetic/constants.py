"""The papers' problem constants, as one frozen record per problem instance.

Names follow BO-REP (Hao, Gong, Liu, ICLR 2024, Assumptions 1-3), SLIP and AdamBO (docs/background.md section 3):

    A1  f is (L_x0, L_x1, L_y0, L_y1)-smooth jointly in u = (x, y):
        ||d/du grad_x f|| <= L_x0 + L_x1 ||grad_x f||,  ||d/du grad_y f|| <= L_y0 + L_y1 ||grad_y f||
        (certified here in Hessian form; the papers' gradient form inside radius 1/L1 follows with a
        factor e - 1 by Gronwall's inequality, docs/background.md section 2)
    A2  ||grad_y f(x, y*(x))|| <= l_f0;  g(x, .) mu-strongly convex;  g l_g1-smooth in (x, y);
        grad2_xy g and grad2_yy g l_g2-Lipschitz
    A3  a.s. noise bounds sigma_f (grad F), sigma_g1 (grad_y G), sigma_g2 (Hessian / Jacobian)

plus what a family can certify about Phi itself: its (L0, L1) pair (phi_L0, phi_L1) and a lower
bound phi_inf <= inf Phi (so Delta = Phi(x0) - phi_inf bounds the initial suboptimality).
``None`` means "not certified by this family".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Constants:
    L_x0: float
    L_x1: float
    L_y0: float
    L_y1: float
    l_f0: float
    mu: float
    l_g1: float
    l_g2: float
    sigma_f: float = 0.0
    sigma_g1: float = 0.0
    sigma_g2: float = 0.0
    noise_bounded: bool = True
    phi_L0: float | None = None
    phi_L1: float | None = None
    phi_inf: float | None = None

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "noise_bounded" or value is None:
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                if field.name == "phi_inf" and isinstance(value, (int, float)) and math.isfinite(value):
                    continue
                raise ValueError(f"constant {field.name} must be a finite number >= 0, got {value!r}")
        if self.mu <= 0:
            raise ValueError(f"constant mu must be > 0 (strong convexity), got {self.mu!r}")
        if self.l_g1 < self.mu:
            raise ValueError(f"constant l_g1 must be >= mu = {self.mu}, got {self.l_g1!r}")

    @property
    def kappa(self) -> float:
        """Condition number l_g1 / mu; y*(x) is kappa-Lipschitz."""
        return self.l_g1 / self.mu

    def as_dict(self) -> dict:
        return asdict(self)
