"""Shared fixtures for the algorithm tests: an easy problem, per-method hyperparameters, call accounting."""

from __future__ import annotations

import torch

from ubo.synthetic import make_problem


def easy_problem(noise: str = "none", sigma: float = 0.0, dim: int = 3):
    """Convex, well-conditioned F2 instance (kappa ~ 2, L1 = 0.5): every method converges on it."""
    return make_problem("decoupled", dim_x=dim, dim_y=dim, mu=1.0, L_g=2.0, L1=0.5, alpha=0.0, cross=0.5,
                        x0_scale=1.0, rotate=False, noise=noise, sigma_f=sigma, sigma_g1=sigma, sigma_g2=sigma)


def tiny_problem(noise: str = "none", sigma: float = 0.0):
    """Nonconvex coupled F3 instance with dims 2 for hand-checked steps."""
    return make_problem("coupled", dim_x=2, dim_y=2, noise=noise, sigma_f=sigma, sigma_g1=sigma, sigma_g2=sigma)


EASY = {
    "slip": dict(eta=0.01, beta=0.5, gamma=0.4, nu=0.4, warm_start=10),
    "borep": dict(eta=0.01, beta=0.5, gamma=0.4, nu=0.4, period=2, lower_steps=2, epoch_gamma=0.4, epochs=2,
                  first_epoch=5),
    "adambo": dict(eta=0.01, beta=0.5, beta_sq=0.5, lam=1e-3, gamma=0.4, warm_start=10, neumann_scale=2.5,
                   neumann_terms=20),
    "stocbio": dict(alpha=0.1, gamma=0.4, lower_steps=2, neumann_scale=2.5, neumann_terms=20),
    "ttsa": dict(alpha=0.1, gamma=0.4, neumann_scale=2.5, neumann_terms=20),
    "soba": dict(alpha=0.1, gamma=0.4, nu=0.4),
    "ma_soba": dict(alpha=0.1, beta=0.5, gamma=0.4, nu=0.4),
    "f2sa": dict(alpha=0.1, gamma=0.4, lam0=10.0, lam_step=0.1),
    "accbo": dict(eta=0.01, beta=0.5, gamma=0.4, theta=0.3, tau=0.5, warm_start=10, neumann_scale=2.5,
                  neumann_terms=20),
}

NORMALIZED = ("slip", "borep", "accbo")


def expected_calls(algo, t: int) -> list[int]:
    """The paper's accounting [grad_f, grad_g, hvp, jvp]: init for t = -1, else outer iteration t (0-based)."""
    h = algo.hyper()
    name = algo.name
    if t < 0:
        warm = {"borep": h.get("first_epoch", 0) * (2 ** h.get("epochs", 0) - 1)}.get(name, h.get("warm_start", 0))
        return [0, warm, 0, 0]
    neumann = h.get("neumann_terms", 1) - (0 if h.get("neumann_drop_q0") is None else 1 - int(h["neumann_drop_q0"]))
    if name == "slip":
        k = h["task_batch"]
        return [k, k, k, k]
    if name in ("soba", "ma_soba"):
        return [1, 1, 1, 1]
    if name == "borep":
        k = h["task_batch"]
        return [k, h["lower_steps"] if t % h["period"] == 0 and t > 0 else 0, k, k]
    if name == "adambo":
        return [1, 1, neumann, 1]
    if name == "stocbio":
        return [1, h["lower_steps"], neumann, 1]
    if name == "ttsa":
        return [1, 1, neumann, 1]
    if name == "f2sa":
        return [1, 2, 0, 0 if h["penalty_gradient"] == "first_order" else 1]
    if name == "accbo":  # STORM evaluates the estimator's samples at two points from t = 1
        k = 2 if h["momentum"] == "storm" and t > 0 else 1
        return [k, h["lower_steps"], k * (h["neumann_terms"] - 1), k]
    raise AssertionError(f"no accounting for {name}")


def batch(point: torch.Tensor, runs: int) -> torch.Tensor:
    return point.unsqueeze(0).repeat(runs, 1)
