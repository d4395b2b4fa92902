"""Linear softmax head with squared-L2 penalty: the strongly convex lower level of the tasks.

    theta (C, F + 1) = [W | b],  logits_i = theta [a_i; 1],  y = vec(theta) row-major
    G(y) = sum_i w_i s_i CE(logits_i, c_i) + 1/2 sum_k lam_k y_k^2
    grad2_yy G = sum_i w_i s_i (diag p_i - p_i p_i^T) (x) [a_i;1][a_i;1]^T + diag(lam)    (mu = min lam)

Since 0 <= diag p - p p^T <= 1/2 I and |a_ij| <= 1 (tanh features), ||grad2_yy G|| <= (F + 1)/2 + max lam
when the weights w_i s_i sum to at most 1. ``newton`` finds y*(x) to high accuracy (damped Newton,
batched over runs); it is the independent ground truth of the linear-head tasks.
"""

from __future__ import annotations

import torch


def augment(features: torch.Tensor) -> torch.Tensor:
    """[a; 1]: (R, N, F) -> (R, N, F + 1)."""
    return torch.cat((features, features.new_ones(*features.shape[:-1], 1)), dim=-1)


def logits(y: torch.Tensor, features: torch.Tensor, classes: int) -> torch.Tensor:
    theta = y.reshape(y.shape[0], classes, -1)
    return torch.bmm(augment(features), theta.transpose(1, 2))


def cross_entropy(y, features, labels, classes) -> torch.Tensor:
    """(R, N) per-example CE; labels (R, N)."""
    z = logits(y, features, classes)
    return torch.logsumexp(z, -1) - z.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


def hessian(y, features, weights, lam, classes) -> torch.Tensor:
    """(R, D, D) Hessian of sum_i weights_i CE_i + 1/2 sum lam y^2 (weights (R, N), lam (R, D))."""
    p = torch.softmax(logits(y, features, classes), -1)                             # (R, N, C)
    s = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)                     # (R, N, C, C)
    a = augment(features)
    block = torch.einsum("rn,rncd,rni,rnj->rcidj", weights, s, a, a)
    D = y.shape[1]
    return block.reshape(y.shape[0], D, D) + torch.diag_embed(lam)


def newton(features, labels, weights, lam, classes, iters: int = 40, tol: float = 1e-10) -> torch.Tensor:
    """argmin_y sum_i weights_i CE_i(y) + 1/2 sum lam y^2, batched; damped Newton from y = 0."""
    R, _, F = features.shape
    y = features.new_zeros(R, classes * (F + 1))
    for _ in range(iters):
        p = torch.softmax(logits(y, features, classes), -1)
        resid = p - torch.nn.functional.one_hot(labels, classes).to(p.dtype)
        grad = torch.einsum("rn,rnc,rni->rci", weights, resid, augment(features)).reshape(R, -1) + lam * y
        H = hessian(y, features, weights, lam, classes)
        step = torch.linalg.solve(H, grad.unsqueeze(-1)).squeeze(-1)
        decrement = (grad * step).sum(1).clamp_min(0).sqrt()                          # Newton decrement
        y = y - step / (1 + decrement * (decrement > 0.25)).unsqueeze(-1)
        if float(grad.norm(dim=1).max()) < tol:
            break
    return y
