"""Phi = f(x, y*(x)) is (L0, L1)-smooth: the generic lemma's constants from a problem's Constants.

Lemma (Hao, Gong, Liu, ICLR 2024 (BO-REP), the lemma that Phi is (L0, L1)-smooth, number unverified; also used by SLIP and AdamBO; constants derived in docs/theory.md section 1):
with kappa = l_g1 / mu and r_f = 1 / sqrt(2 (L_x1^2 + L_y1^2)), for ||x - x'|| <= r_f / sqrt(1 + kappa^2)

    ||grad Phi(x) - grad Phi(x')|| <= (L0 + L1 ||grad Phi(x)||) ||x - x'||,
    L1 = sqrt(1 + kappa^2) L_x1,
    L0 = sqrt(1 + kappa^2) [L_x0 + kappa L_x1 l_f0 + kappa (L_y0 + L_y1 l_f0) + l_f0 l_g2 (1/mu + l_g1/mu^2)].

The radius is infinite when L_x1 = L_y1 = 0 (bounded smoothness). Families that certify Phi
directly (Constants.phi_L0 / phi_L1) give a sharper pair; ``looseness`` reports the ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ubo.synthetic.constants import Constants


@dataclass(frozen=True)
class PhiSmoothness:
    """(L0, L1) of Phi, the radius inside which the gradient form holds, and kappa."""

    L0: float
    L1: float
    radius: float
    kappa: float


def phi_smoothness(c: Constants) -> PhiSmoothness:
    """The generic lemma: Phi's (L0, L1) and radius from the problem's A1-A2 constants."""
    kappa = c.kappa
    root = math.sqrt(1.0 + kappa**2)
    L1 = root * c.L_x1
    L0 = root * (c.L_x0 + kappa * c.L_x1 * c.l_f0 + kappa * (c.L_y0 + c.L_y1 * c.l_f0)
                 + c.l_f0 * c.l_g2 * (1.0 / c.mu + c.l_g1 / c.mu**2))
    spread = c.L_x1**2 + c.L_y1**2
    radius = math.inf if spread == 0 else 1.0 / (math.sqrt(2.0 * spread) * root)
    return PhiSmoothness(L0=L0, L1=L1, radius=radius, kappa=kappa)


def certified_phi_constants(c: Constants) -> tuple[float, float]:
    """Phi's sharpest available (L0, L1): the family's certificate when present, else the lemma."""
    if c.phi_L0 is not None and c.phi_L1 is not None:
        return float(c.phi_L0), float(c.phi_L1)
    lemma = phi_smoothness(c)
    return lemma.L0, lemma.L1


def looseness(c: Constants) -> dict[str, float]:
    """Lemma / certificate ratios for L0 and L1 (NaN when the family certifies no Phi constants).

    A ratio >= 1 means the generic lemma is looser than the family's exact certificate, as it must
    be when both are valid upper bounds with the certified one derived from the closed form.
    """
    lemma = phi_smoothness(c)
    if c.phi_L0 is None or c.phi_L1 is None:
        return {"L0_ratio": math.nan, "L1_ratio": math.nan}
    l0 = lemma.L0 / c.phi_L0 if c.phi_L0 > 0 else math.inf
    l1 = lemma.L1 / c.phi_L1 if c.phi_L1 > 0 else (1.0 if lemma.L1 == 0 else math.inf)
    return {"L0_ratio": l0, "L1_ratio": l1}
