"""Family F5 (``steep``): F3 started far out along one axis of the cosh landscape, where L1 matters.

Same functions and certificates as F3 (synthetic.logcosh_bilevel): f(x, y) = U(x) + c sum_j logcosh(y_j -
(K x)_j - t_j) over g(x, y) = 1/2 y^T A y - y^T B x. Only the start changes: x0 = s R^T e_1, i.e. the
landscape coordinate (R x)_1 = s and the others 0, so that along the way to the minimiser

    ||grad2 Phi|| ~ L0 cosh(L1 u) while ||grad Phi|| ~ (L0/L1) sinh(L1 u)     (u = (R x)_1 from s down to ~0)

grows with ||grad Phi|| (on F3's diagonal start the gradient norm carries a sqrt(d_x) the Hessian norm does
not, which hides L1). Defaults: a convex landscape (alpha = 0), a weak coupling (c = 0.2, ||B|| = 0.5), so
that the certified Phi pair is nearly attained: (L0, L1)-smooth with L0 near the curvature at the minimiser
and L1 approached along the path. With s = 4, ||grad2 Phi(x0)|| ~ cosh(4) = 27 L0: a fixed step must be
below 2/27 of what the stationary region allows.
"""

from __future__ import annotations

import torch

from ubo.synthetic.logcosh_bilevel import LogcoshBilevel


class SteepLogcosh(LogcoshBilevel):
    def __init__(self, x0_scale: float = 4.0, alpha: float = 0.0, c: float = 0.2, cross: float = 0.5,
                 coupling: float = 0.2, **params):
        super().__init__(x0_scale=x0_scale, alpha=alpha, c=c, cross=cross, coupling=coupling, name="steep", **params)
        axis = torch.zeros(self.dim_x, dtype=torch.float64, device=self.device)
        axis[0] = x0_scale
        rotation = self.U.rotation
        self._x0 = axis if rotation is None else axis @ rotation  # R x0 = s e_1


def steep(**params) -> SteepLogcosh:
    """F5: F3 with x0 far out on one landscape axis (unbounded smoothness exercised); see the module doc."""
    return SteepLogcosh(**params)
