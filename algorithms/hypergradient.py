"""Hypergradient estimators: grad Phi ~ grad_x F - grad2_xy G p with p ~ [grad2_yy g]^-1 grad_y F.

    z-SGD (BO-REP, SLIP, SOBA):  z <- Pi_{||z|| <= radius}( z - nu (H z - grad_y F) )
        one SGD step on 1/2 z^T H z - z^T grad_y F, whose minimiser is z* (Dagreou et al., NeurIPS 2022);
        radius "paper" = l_f0 / mu from the problem's certified constants (``z_radius``)
    Neumann (AdamBO, StocBiO, TTSA, AccBO; Ji, Yang, Liang, ICML 2021):
        p = (1/C) sum_{q=0}^{Q-1} prod_{j=1}^{q} (I - H_j / C) grad_y F,  H_j independent samples
        computed by the recursion v_0 = grad_y F / C, v_q = v_{q-1} - H_q v_{q-1} / C, p = sum v_q
        (Q - 1 Hessian-vector calls). For C >= l_g1 the truncation error is
        ||A^-1 - S_Q|| <= (1 - mu/C)^Q / mu  (the geometric tail of the series); the series converges
        for any C > l_g1 / 2 (the spectrum of I - A/C then lies in (-1, 1 - mu/C]).
        ``drop_q0`` is the released code's sum (StocBiO's code as reused in the SLIP and AdamBO
        repositories): v_1, ..., v_Q with v_Q counted twice and no q = 0 term,
        p = v_Q + sum_{q=1}^{Q} v_q  (Q calls); its mean is (1/C)[(I - A/C)^Q + sum_{q=1}^{Q} (I - A/C)^q] b.
    exact: p = [grad2_yy g]^-1 grad_y F from the problem's exact Hessian (reference runs only).
"""

from __future__ import annotations

import warnings

import torch

Tensor = torch.Tensor


def resolve_z_radius(setting, problem) -> float:
    """The z-projection radius a run uses: a number as given (inf: no projection), or for ``"paper"`` the
    radius l_f0 / mu of SLIP and BO-REP (||z*(x)|| <= l_f0 / mu under A2) from the problem's certified
    constants; a problem that does not certify l_f0 (the realistic tasks) gets no projection (inf), and so
    does l_f0 = 0 (grad_y f = 0, so z* = 0 and z-SGD contracts to it; a radius must be positive)."""
    if setting != "paper":
        return setting
    c = getattr(problem, "constants", None)
    l_f0, mu = getattr(c, "l_f0", None), getattr(c, "mu", None)
    if l_f0 is None or mu is None or not mu > 0 or not l_f0 > 0:
        return float("inf")
    return l_f0 / mu


def resolve_neumann_scale(setting, problem) -> float:
    """The Neumann scale C a run uses: ``"problem"`` means the problem's certified l_g1. A number below
    l_g1 / 2 gets a UserWarning naming neumann_scale: the series diverges when C < lambda_max / 2, and the
    certified l_g1 >= lambda_max may be loose (the tasks' measured curvature is often 4x below it), so this
    is a warning rather than an error."""
    l_g1 = getattr(getattr(problem, "constants", None), "l_g1", None)
    if setting == "problem":
        if l_g1 is None:
            raise ValueError("neumann_scale='problem' needs a problem that certifies l_g1; pass a number instead")
        return float(l_g1)
    if l_g1 is not None and setting < l_g1 / 2:
        warnings.warn(f"neumann_scale = {setting:.6g} is below l_g1 / 2 = {l_g1 / 2:.6g} of this problem's certified "
                      f"l_g1: the Neumann series diverges if the curvature reaches that bound", stacklevel=3)
    return setting


def project_ball(v: Tensor, radius: float) -> Tensor:
    """Row-wise Euclidean projection onto {||v|| <= radius} (identity for radius = inf)."""
    if radius == float("inf"):
        return v
    norms = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    return v * torch.clamp(radius / norms.clamp_min(torch.finfo(v.dtype).tiny), max=1.0)


def z_sgd_step(z: Tensor, hz: Tensor, grad_y_f: Tensor, nu: float, radius: float = float("inf")) -> Tensor:
    """z - nu (H z - grad_y F), projected onto the ball of the given radius."""
    return project_ball(z - nu * (hz - grad_y_f), radius)


def neumann(oracle, x: Tensor, y: Tensor, grad_y_f: Tensor, scale: float, terms: int,
            drop_q0: bool = False) -> Tensor:
    """Neumann-series approximation of [grad2_yy g]^-1 grad_y F with fresh HVP samples per term.

    ``scale`` is C (a number, or "problem": the problem's l_g1; C >= l_g1 / 2 is checked when the problem
    certifies l_g1), ``terms`` is Q >= 1.
    """
    problem = getattr(oracle, "problem", None)
    if problem is not None:
        scale = resolve_neumann_scale(scale, problem)
    v = grad_y_f / scale
    total = torch.zeros_like(v) if drop_q0 else v
    for _ in range(terms if drop_q0 else terms - 1):
        v = v - oracle.hvp(x, y, v) / scale
        total = total + v
    return total + v if drop_q0 else total


def neumann_hypergradient(oracle, x: Tensor, y: Tensor, scale: float, terms: int,
                          drop_q0: bool = False) -> Tensor:
    """grad_x F(xi) - grad2_xy G(zeta_0) p with p the Neumann series above (1 grad_f, 1 jvp, Q-1 hvp)."""
    gx, gy = oracle.grad_f(x, y)
    p = neumann(oracle, x, y, gy, scale, terms, drop_q0)
    return gx - oracle.jvp(x, y, p)


def exact_solve(problem, x: Tensor, y: Tensor, grad_y_f: Tensor) -> Tensor:
    """[grad2_yy g(x, y)]^-1 grad_y F by a dense solve (reference only; not an oracle call)."""
    return torch.linalg.solve(problem.hessian_yy(x, y), grad_y_f.unsqueeze(-1)).squeeze(-1)
