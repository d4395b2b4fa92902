"""Reference derivatives for the synthetic tests: autograd Hessians and central finite differences."""

from __future__ import annotations

import torch


def autograd_grad(fun, *args: torch.Tensor, wrt: int = 0) -> torch.Tensor:
    """Gradient of sum_r fun(*args)[r] with respect to args[wrt]: per-row gradients of a batched scalar map."""
    args = [a.detach().clone().requires_grad_(i == wrt) for i, a in enumerate(args)]
    (grad,) = torch.autograd.grad(fun(*args).sum(), args[wrt])
    return grad


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-9) -> None:
    """a == b up to tol, relative and scaled by b's largest entry."""
    torch.testing.assert_close(a, b, rtol=tol, atol=tol * (1 + float(b.abs().max())))


def check_second_order_calls(problem, g_b, x, y, v, draw) -> None:
    """sample_hvp_jvp on ``draw`` is (grad2_yy g_b v, grad2_xy g_b v) by autograd of the minibatch objective g_b,
    and, drawn from one sample, equals the separate sample_hvp and sample_jvp calls on the same draw."""
    xr, yr = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
    dy = torch.autograd.grad(g_b(xr, yr).sum(), yr, create_graph=True)[0]
    jv, hv = torch.autograd.grad((dy * v).sum(), (xr, yr))
    fused = problem.sample_hvp_jvp(x, y, v, draw)
    close(fused[0], hv)
    close(fused[1], jv)
    assert torch.equal(fused[0], problem.sample_hvp(x, y, v, draw))
    assert torch.equal(fused[1], problem.sample_jvp(x, y, v, draw))


def joint_hessian(fun, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """(R, D, D) autograd Hessian of a batched scalar fun(x[, y]) in u = (x, y), one row at a time."""
    dx = x.shape[1]
    u = x if y is None else torch.cat((x, y), dim=1)

    def row_fun(row):
        if y is None:
            return fun(row[None])[0]
        return fun(row[None, :dx], row[None, dx:])[0]

    return torch.stack([torch.autograd.functional.hessian(row_fun, row) for row in u])


def central_difference(fun, x: torch.Tensor, step: float = 1e-5) -> torch.Tensor:
    """(R, d) central finite-difference gradient of a batched scalar map x (R, d) -> (R,)."""
    cols = []
    for k in range(x.shape[1]):
        e = torch.zeros_like(x)
        e[:, k] = step
        cols.append((fun(x + e) - fun(x - e)) / (2 * step))
    return torch.stack(cols, dim=1)


def spectral_norm(m: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(m, ord=2)


def clip_rows(t: torch.Tensor, radius: float) -> torch.Tensor:
    """Rows scaled into the ball of the given radius."""
    norm = t.norm(dim=1, keepdim=True)
    return torch.where(norm > radius, t * (radius / norm.clamp_min(1e-300)), t)
