"""Step sizes for running any registered algorithm on a task, from the task's own curvature.

The papers' parameter choices need certified constants, which the RNN tasks do not have. This
measures what the lower-level steps must respect, at the start:

    l_hat = lambda_max(grad2_yy g(x0, y*(x0)))   (or the certified y-block bound without ground truth)
    gamma = nu = 0.5 / l_hat,   Neumann scale C = 2 l_hat   (the series needs C >= l_g1)

and sets the upper steps from one length ``eta``: normalized methods move x by eta per step,
SGD-type methods take alpha = eta / ||grad Phi(x0)|| (the same first step), AdamBO a per-coordinate
rate of eta / 100 (3e-3 at eta = 0.3; the AdamBO code uses 5e-3) with Adam's epsilon lam = 1e-8 (the
code's value: a larger lam, far above per-coordinate hypergradients of about 1e-3, turns Adam into
SGD with a tiny step, and AdamBO then stays at chance on the meta-learning task); F2SA, whose x step
carries its growing penalty lam_t, takes alpha / 2. z is not projected (z_radius = inf): the tasks
have no certified constants from which a radius would follow. These are practical defaults for the
CPU sizes, not the papers' theory-driven choices (use Algorithm.from_theory for those on synthetic
problems); ``ubo tasks --compare`` tunes the main step size per method on a small grid.
"""

from __future__ import annotations

import math

import torch

from ubo import algorithms


def curvature(task) -> tuple[float, float]:
    """(l_hat, ||grad Phi(x0)||); without ground truth, (constants.l_g1, nan)."""
    if not task.has_ground_truth:
        return float(task.constants.l_g1), math.nan
    x = task.batch(task.x0, 1)
    y = task.y_star(x)
    top = float(torch.linalg.eigvalsh(task.hessian_yy(x, y).double())[0, -1])
    return top, float(task.grad_phi(x).norm())


def suggested_hyper(task, algorithm: str, eta: float = 0.3, warm_start: int = 20) -> dict:
    """Hyperparameters for ``algorithms.make(algorithm, **hyper)`` on ``task``."""
    l_hat, g0 = curvature(task)
    gamma = 0.5 / l_hat
    alpha = eta / g0 if math.isfinite(g0) and g0 > 0 else eta
    neumann = {"neumann_scale": 2 * l_hat, "neumann_terms": 5}
    table = {
        "borep": dict(eta=eta, beta=0.5, gamma=gamma, nu=gamma, epoch_gamma=gamma),
        "slip": dict(eta=eta, beta=0.5, gamma=gamma, nu=gamma, warm_start=warm_start),
        "adambo": dict(eta=eta / 100, lam=1e-8, gamma=gamma, warm_start=warm_start, **neumann),
        "accbo": dict(eta=eta, beta=0.5, gamma=gamma, warm_start=warm_start, **neumann),
        "stocbio": dict(alpha=alpha, gamma=gamma, **neumann),
        "ttsa": dict(alpha=alpha, gamma=gamma, **neumann),
        "soba": dict(alpha=alpha, gamma=gamma, nu=gamma),
        "ma_soba": dict(alpha=alpha, gamma=gamma, nu=gamma, beta=0.5),
        "f2sa": dict(alpha=alpha / 2, gamma=gamma, lam0=1.0, lam_step=0.1),  # x step carries lam_t,
    }
    if algorithm not in table:
        raise ValueError(f"algorithm must be one of {sorted(table)}, got {algorithm!r}")
    hyper = dict(table[algorithm])
    if "z_radius" in algorithms.make(algorithm).hyper():
        hyper["z_radius"] = math.inf
    return hyper
