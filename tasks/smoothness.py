"""Unbounded smoothness on the tasks: does local smoothness grow with the gradient norm?

Two probes of the (L0, L1) condition (Zhang, He, Sra, Jadbabaie, ICLR 2020):

* ``recurrent_scan``: a vanilla tanh RNN on the adding problem with W_hh = s Q (Q orthogonal),
  one run per scale s (batched). L_hat(s) = ||grad f(W + d) - grad f(W)|| / ||d|| for a small
  random direction d; past s = 1 both L_hat and ||grad f|| explode together.
* ``trajectory_smoothness``: along an algorithm's iterates on a task, the secant smoothness
  (theory.smoothness.secant_smoothness) of the upper objective on a fixed evaluation set, the
  whole upper pool, u -> f(u) with u = (x, y), against ||grad f(u_t)||; and of Phi when the task
  has ground truth.

``spearman`` is the rank correlation reported by both (positive: smoothness grows with the
gradient norm, the (L0, L1) picture; near 0: no evidence).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ubo.theory.smoothness import secant_smoothness


def spearman(a, b) -> float:
    """Rank correlation of two 1-D arrays (NaN pairs dropped; average ranks for ties)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return math.nan
    return float(spearmanr(a[keep], b[keep]).statistic)


def adding_problem(n: int, steps: int, generator: torch.Generator, dtype=torch.float64):
    """Inputs (n, steps, 2): value ~ U(0, 1) and a marker on two positions; targets (n,): the marked sum."""
    values = torch.rand(n, steps, generator=generator, dtype=dtype)
    marks = torch.zeros(n, steps, dtype=dtype)
    first = torch.randint(0, steps // 2, (n,), generator=generator)
    second = torch.randint(steps // 2, steps, (n,), generator=generator)
    marks[torch.arange(n), first] = 1.0
    marks[torch.arange(n), second] = 1.0
    return torch.stack((values, marks), dim=-1), (values * marks).sum(1)


def _adding_loss(w_hh: torch.Tensor, w_in, readout, inputs, targets) -> torch.Tensor:
    """(R,) mean squared error of a last-state tanh RNN readout, batched over runs."""
    R = w_hh.shape[0]
    h = inputs.new_zeros(R, inputs.shape[0], w_hh.shape[1])
    drive = torch.einsum("ntk,kh->nth", inputs, w_in)
    for t in range(inputs.shape[1]):
        h = torch.tanh(drive[:, t] + torch.bmm(h, w_hh))
    return ((h @ readout - targets) ** 2).mean(1)


def recurrent_scan(scales=(0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0), hidden: int = 32, steps: int = 30,
                   batch: int = 128, relative: float = 1e-3, seed: int = 0) -> dict:
    """{'scale', 'grad_norm', 'smoothness'} arrays over the spectral-radius scan, plus both correlations."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(hidden, hidden, generator=gen, dtype=torch.float64))
    w_in = torch.randn(2, hidden, generator=gen, dtype=torch.float64)
    readout = torch.randn(hidden, generator=gen, dtype=torch.float64) / math.sqrt(hidden)
    inputs, targets = adding_problem(batch, steps, gen)
    s = torch.tensor(scales, dtype=torch.float64)
    w = s.view(-1, 1, 1) * q
    direction = torch.randn(hidden, hidden, generator=gen, dtype=torch.float64)
    delta = relative * w.flatten(1).norm(dim=1).view(-1, 1, 1) * direction / direction.norm()

    def grads(point):
        point = point.detach().requires_grad_(True)
        loss = _adding_loss(point, w_in, readout, inputs, targets).sum()
        return torch.autograd.grad(loss, point)[0].flatten(1)

    with torch.enable_grad():
        g0, g1 = grads(w), grads(w + delta)
    grad_norm = g0.norm(dim=1).numpy()
    smooth = ((g1 - g0).norm(dim=1) / delta.flatten(1).norm(dim=1)).numpy()
    return {"scale": s.numpy(), "grad_norm": grad_norm, "smoothness": smooth,
            "spearman": spearman(grad_norm, smooth),
            "log_pearson": float(np.corrcoef(np.log(grad_norm), np.log(smooth))[0, 1])}


def trajectory_smoothness(task, algorithm, steps: int = 50, runs: int = 1, seed: int = 0, points: int = 2) -> dict:
    """Secant smoothness of u = (x, y) -> f(u) (whole upper pool) along ``algorithm``'s iterates on ``task``.

    Returns arrays (steps, runs): 'grad_norm' ||grad f(u_t)||, 'smoothness' the secant estimate of
    the step u_t -> u_{t+1}; with ground truth also 'phi_grad_norm' and 'phi_smoothness'; and the
    pooled Spearman correlations.
    """
    oracle = task.oracle(runs=runs, seed=seed)
    state = algorithm.init(oracle, task.batch(task.x0, runs), task.batch(task.y0, runs))
    dx = task.dim_x

    def grad_f(u):
        gx, gy = task.grad_f(u[:, :dx], u[:, dx:])
        return torch.cat((gx, gy), dim=1)

    out = {k: [] for k in ("grad_norm", "smoothness", "phi_grad_norm", "phi_smoothness")}
    for _ in range(steps):
        nxt = algorithm.step(oracle, state)
        u0, u1 = torch.cat((state.x, state.y), 1), torch.cat((nxt.x, nxt.y), 1)
        out["grad_norm"].append(grad_f(u0).norm(dim=1))
        out["smoothness"].append(secant_smoothness(grad_f, u0, u1, points))
        if task.has_ground_truth:
            out["phi_grad_norm"].append(task.grad_phi(state.x).norm(dim=1))
            out["phi_smoothness"].append(secant_smoothness(task.grad_phi, state.x, nxt.x, points))
        state = nxt
    result = {k: torch.stack(v).double().cpu().numpy() for k, v in out.items() if v}
    result["spearman"] = spearman(result["grad_norm"].ravel(), result["smoothness"].ravel())
    if task.has_ground_truth:
        result["phi_spearman"] = spearman(result["phi_grad_norm"].ravel(), result["phi_smoothness"].ravel())
    return result
