"""Hypergradient estimators: grad Phi ~ grad_x F - grad2_xy G p with p ~ [grad2_yy g]^-1 grad_y F.

    z-SGD (BO-REP, SLIP, SOBA):  z <- Pi_{||z|| <= radius}( z - nu (H z - grad_y F) )
        one SGD step on 1/2 z^T H z - z^T grad_y F, whose minimiser is z* (Dagreou et al. 2022)
    Neumann (AdamBO, StocBiO, TTSA, AccBO):
        p = (1/C) sum_{q=0}^{Q-1} prod_{j=1}^{q} (I - H_j / C) grad_y F,  H_j independent samples
        computed by the recursion v_0 = grad_y F / C, v_q = v_{q-1} - H_q v_{q-1} / C, p = sum v_q
        (Q - 1 Hessian-vector calls). For C >= l_g1 the truncation error is
        ||A^-1 - S_Q|| <= (1 - mu/C)^Q / mu  (theory-probes.md section 3.3).
        ``drop_q0`` reproduces the released code's off-by-one (papers.md section 7 item 9):
        p = (1/C) sum_{q=1}^{Q} (I - H/C)^q grad_y F  (q = 0 dropped, q = Q added; Q calls).
    exact: p = [grad2_yy g]^-1 grad_y F from the problem's exact Hessian (reference runs only).
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def project_ball(v: Tensor, radius: float) -> Tensor:
    """Row-wise Euclidean projection onto {||v|| <= radius} (identity for radius = inf)."""
    if radius == float("inf"):
        return v
    norms = v.norm(dim=1, keepdim=True)
    return v * torch.clamp(radius / norms.clamp_min(torch.finfo(v.dtype).tiny), max=1.0)


def z_sgd_step(z: Tensor, hz: Tensor, grad_y_f: Tensor, nu: float, radius: float = float("inf")) -> Tensor:
    """z - nu (H z - grad_y F), projected onto the ball of the given radius."""
    return project_ball(z - nu * (hz - grad_y_f), radius)


def neumann(oracle, x: Tensor, y: Tensor, grad_y_f: Tensor, scale: float, terms: int,
            drop_q0: bool = False) -> Tensor:
    """Neumann-series approximation of [grad2_yy g]^-1 grad_y F with fresh HVP samples per term.

    ``scale`` is C (>= l_g1 for convergence), ``terms`` is Q >= 1.
    """
    v = grad_y_f / scale
    total = torch.zeros_like(v) if drop_q0 else v
    for _ in range(terms if drop_q0 else terms - 1):
        v = v - oracle.hvp(x, y, v) / scale
        total = total + v
    return total


def neumann_hypergradient(oracle, x: Tensor, y: Tensor, scale: float, terms: int,
                          drop_q0: bool = False) -> Tensor:
    """grad_x F(xi) - grad2_xy G(zeta_0) p with p the Neumann series above (1 grad_f, 1 jvp, Q-1 hvp)."""
    gx, gy = oracle.grad_f(x, y)
    p = neumann(oracle, x, y, gy, scale, terms, drop_q0)
    return gx - oracle.jvp(x, y, p)


def exact_solve(problem, x: Tensor, y: Tensor, grad_y_f: Tensor) -> Tensor:
    """[grad2_yy g(x, y)]^-1 grad_y F by a dense solve (reference only; not an oracle call)."""
    return torch.linalg.solve(problem.hessian_yy(x, y), grad_y_f.unsqueeze(-1)).squeeze(-1)
