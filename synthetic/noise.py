"""Noise laws for the stochastic oracles: unbiased, with E||xi||^2 = sigma^2.

    none       xi = 0
    bounded    xi = sigma u, u uniform on the unit sphere: ||xi|| = sigma almost surely
               (assumption A3 of BO-REP and SLIP)
    gaussian   xi ~ N(0, sigma^2 I / d): sub-Gaussian, outside the a.s. bound
    student_t  xi = sigma sqrt((nu - 2) / (nu d)) t, t_i iid Student-t(nu), nu > 2:
               heavy tails, only moments of order < nu exist (well outside A3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ubo.synthetic import fused_rng
from ubo.synthetic.rng import Draw

LAWS = ("none", "bounded", "gaussian", "student_t")
_SHAPES = {"bounded": fused_rng.BOUNDED, "gaussian": fused_rng.GAUSSIAN}


@dataclass(frozen=True)
class NoiseLaw:
    """One oracle kind's additive noise: law name, size sigma, and nu for Student-t."""

    law: str = "none"
    sigma: float = 0.0
    nu: float = 4.0

    def __post_init__(self):
        if self.law not in LAWS:
            raise ValueError(f"noise law must be one of {LAWS}, got {self.law!r}")
        if not (isinstance(self.sigma, (int, float)) and math.isfinite(self.sigma) and self.sigma >= 0):
            raise ValueError(f"sigma must be a finite number >= 0, got {self.sigma!r}")
        if self.law == "student_t" and not (self.nu > 2):
            raise ValueError(f"nu must be > 2 for student_t (finite variance), got {self.nu!r}")

    @property
    def active(self) -> bool:
        return self.law != "none" and self.sigma > 0

    @property
    def almost_surely_bounded(self) -> bool:
        """True when ||xi|| <= sigma for every realisation (the papers' assumption A3)."""
        return self.law in ("none", "bounded") or self.sigma == 0

    def sample(self, draw: Draw, dims: tuple[int, ...], sub: int,
               scale: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Independent (R, d) noise vectors, one per d in ``dims``, from ``draw``'s sub-stream ``sub``.

        ``scale`` (R,) multiplies each row (Hessian noise scales with ||v||).
        """
        total = sum(dims)
        if self.law == "none" or self.sigma == 0:
            zero = torch.zeros(draw.keys.shape[0], total, dtype=draw.dtype, device=draw.keys.device)
            return list(zero.split(dims, dim=1))
        if self.law in _SHAPES:  # one fused draw: normals and their shaping
            out = draw.shaped_normal(dims, sub, _SHAPES[self.law], self.sigma, scale)
            return [out] if len(dims) == 1 else list(out.split_with_sizes(list(dims), 1))
        parts = draw.normal(total, sub).split(dims, dim=1)
        row = 1.0 if scale is None else scale[:, None]
        # student_t: a normal over sqrt(chi2 / nu), chi2 = 2 Gamma(nu / 2)
        chi2 = (2.0 * draw.gamma(self.nu / 2.0, total, sub + 1)).split(dims, dim=1)
        return [z * (self.sigma * math.sqrt((self.nu - 2.0) / (self.nu * z.shape[1]))) / torch.sqrt(c / self.nu) * row
                for z, c in zip(parts, chi2)]
