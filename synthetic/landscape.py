"""The (L0, L1)-smooth, possibly nonconvex upper-level landscape U used by F1-F3.

    U(x) = sum_i phi((R x)_i),   phi(t) = (L0 / L1^2) cosh(L1 t) + alpha cos(omega t)

R is orthogonal (identity when ``rotate=False``). For L1 = 0 the cosh term is its limit
L0 t^2 / 2 (bounded smoothness); so is it for 0 < L1 < QUADRATIC_BELOW, where L0/L1^2 cosh(L1 t) would
lose the t-dependence to rounding (or overflow): L0 t^2/2 is (L0, 0)-, hence (L0, L1)-smooth, so the
certificate below still holds.

Certificate (Hessian form, ||grad2 U|| <= L0_U + L1 ||grad U|| everywhere):
    phi'' = L0 cosh(L1 t) - alpha omega^2 cos(omega t),  phi' = (L0/L1) sinh(L1 t) - alpha omega sin(omega t)
    |phi''| <= L0 + L0 |sinh(L1 t)| + alpha omega^2         (cosh <= 1 + |sinh|)
            <= L0 + L1 |phi'| + alpha omega L1 + alpha omega^2   (L0 |sinh| <= L1 |phi'| + alpha omega L1)
    so each coordinate is (L0 + alpha omega^2 + alpha omega L1, L1)-smooth; a separable sum has a
    diagonal Hessian and ||.||_inf <= ||.||_2, and R preserves both norms:
    L0_U = L0 + alpha omega^2 + alpha omega L1,  L1_U = L1   (calculus rules, docs/background.md section 2).
Nonconvex iff alpha omega^2 > L0 (phi''(0) = L0 - alpha omega^2).
inf U = dim * min_t phi(t), found by a dense grid plus bounded refinement (R is a bijection).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize_scalar


QUADRATIC_BELOW = 1e-4


class CoshLandscape:
    def __init__(self, dim: int, L0: float, L1: float, alpha: float, omega: float,
                 rotation: torch.Tensor | None = None):
        self.dim, self.L0, self.L1, self.alpha, self.omega = dim, L0, L1, alpha, omega
        self._quadratic = L1 < QUADRATIC_BELOW
        self.rotation = rotation  # (dim, dim) orthogonal or None
        self._rotation_T = None if rotation is None else rotation.T.contiguous()

    # coordinates t = R x
    def _t(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.rotation is None else x @ self._rotation_T

    def _back(self, v: torch.Tensor) -> torch.Tensor:
        return v if self.rotation is None else v @ self.rotation

    def _phi(self, t):
        if self._quadratic:
            base = 0.5 * self.L0 * t * t
        else:
            base = (self.L0 / self.L1**2) * torch.cosh(self.L1 * t)
        return base + self.alpha * torch.cos(self.omega * t)

    def _dphi(self, t):
        base = self.L0 * t if self._quadratic else (self.L0 / self.L1) * torch.sinh(self.L1 * t)
        return base - self.alpha * self.omega * torch.sin(self.omega * t)

    def _d2phi(self, t):
        base = self.L0 * torch.ones_like(t) if self._quadratic else self.L0 * torch.cosh(self.L1 * t)
        return base - self.alpha * self.omega**2 * torch.cos(self.omega * t)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self._phi(self._t(x)).sum(dim=-1)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return self._back(self._dphi(self._t(x)))

    def hessian(self, x: torch.Tensor) -> torch.Tensor:
        """(R, dim, dim) = R^T diag(phi''(Rx)) R."""
        d = torch.diag_embed(self._d2phi(self._t(x)))
        if self.rotation is None:
            return d
        return self.rotation.T @ d @ self.rotation

    def hvp(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self._back(self._d2phi(self._t(x)) * self._t(v))

    def check_start(self, x0: torch.Tensor) -> None:
        """Refuse an (L1, start) pair for which U or grad U overflows float64 at x0 (cosh(L1 t), L1 |t| > ~709)."""
        t = self._t(x0[None])
        if not (torch.isfinite(self._phi(t)).all() and torch.isfinite(self._dphi(t)).all()):
            raise ValueError(f"L1 must keep U finite at the start x0: L1={self.L1!r} gives L1 max|t| = "
                             f"{self.L1 * float(t.abs().max()):.4g} > 709 (cosh overflows float64); "
                             f"lower L1 or x0_scale")

    @property
    def certified(self) -> tuple[float, float]:
        """(L0_U, L1_U) with ||grad2 U|| <= L0_U + L1_U ||grad U|| everywhere."""
        a, w = self.alpha, self.omega
        return self.L0 + a * w * w + a * w * self.L1, self.L1

    @property
    def nonconvex(self) -> bool:
        return self.alpha * self.omega**2 > self.L0

    def infimum(self) -> float:
        """inf U = dim * min_t phi(t)."""
        def phi(t):
            return float(self._phi(torch.tensor(t, dtype=torch.float64)))

        # phi grows like cosh (or t^2) beyond |t| = T, where it exceeds phi(0) + 2 alpha
        span = 1.0
        while phi(span) < phi(0.0) + 2 * abs(self.alpha) + 1.0 or phi(-span) < phi(0.0) + 2 * abs(self.alpha) + 1.0:
            span *= 2.0
        grid = np.linspace(-span, span, 200_001)
        values = self._phi(torch.from_numpy(grid)).numpy()
        i = int(np.argmin(values))
        step = grid[1] - grid[0]
        res = minimize_scalar(phi, bounds=(grid[i] - step, grid[i] + step), method="bounded",
                              options={"xatol": 1e-13})
        return self.dim * min(float(values[i]), float(res.fun))


def random_orthogonal(dim: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """Haar-distributed orthogonal matrix (QR of a Gaussian with sign fix)."""
    q, r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=dtype))
    return q * torch.sign(torch.diagonal(r)).unsqueeze(0)


def spectrum(dim: int, low: float, high: float) -> torch.Tensor:
    """Log-spaced eigenvalues from low to high (both attained when dim >= 2)."""
    if dim == 1:
        return torch.tensor([low], dtype=torch.float64)
    return torch.logspace(math.log10(low), math.log10(high), dim, dtype=torch.float64)
