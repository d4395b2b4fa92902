"""The two instances every claim runs on, and how L1-dominated a run actually is.

    l1_instance      family ``coupled`` (F3) with a steep cosh landscape, L0 = 0.05, L1 = 1, started at
                     x0 = 5 * 1 where ||grad Phi|| = 8.4 against Phi's certified L0 = 0.43: the (L0, L1)
                     regime, L1 ||grad Phi|| >> L0 until the iterate nears the minimiser
    smooth_instance  the same family and matrices with L1 = 0 (U = L0 ||x||^2 / 2, bounded smoothness)

Both take the noise law and size as arguments (``sigma`` for every oracle kind; law "bounded" is the
papers' assumption A3, "student_t" is outside it). Any ``make_problem`` keyword overrides a default,
so a claim can run on any instance with ground truth.
"""

from __future__ import annotations

import numpy as np
import torch

from ubo.synthetic import make_problem

L1_DEFAULTS = dict(dim_x=5, dim_y=5, L0=0.05, L1=1.0, alpha=0.0, c=0.15, mu=0.5, L_g=2.0, cross=0.5,
                   coupling=0.3, x0_scale=5.0, instance_seed=0)
SMOOTH_DEFAULTS = {**L1_DEFAULTS, "L0": 0.5, "L1": 0.0}


def _build(defaults: dict, noise: str, sigma: float, params: dict):
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    noisy = noise != "none" and sigma > 0
    kw = {**defaults, "noise": noise if noisy else "none", "sigma_f": sigma if noisy else 0.0,
          "sigma_g1": sigma if noisy else 0.0, "sigma_g2": sigma if noisy else 0.0, **params}
    return make_problem(kw.pop("family", "coupled"), **kw)


def l1_instance(noise: str = "bounded", sigma: float = 1.0, **params):
    """The L1-dominated default (family ``coupled``); ``params`` override any make_problem keyword."""
    return _build(L1_DEFAULTS, noise, sigma, params)


def smooth_instance(noise: str = "bounded", sigma: float = 1.0, **params):
    """The bounded-smooth contrast: the same instance with L1 = 0."""
    return _build(SMOOTH_DEFAULTS, noise, sigma, params)


def l1_dominated_fraction(problem, trace) -> float:
    """Fraction of recorded (step, run) pairs with L1 ||grad Phi(x_t)|| > L0 (Phi's certified pair)."""
    c = problem.constants
    g = trace.series["grad_phi_norm"][1:]  # t >= 1 (t = 0 is x0 for every run)
    g = g[torch.isfinite(g)]
    if g.numel() == 0 or not c.phi_L1:
        return 0.0
    return float(np.mean((c.phi_L1 * g > c.phi_L0).cpu().numpy()))
