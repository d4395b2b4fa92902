"""Unbounded smoothness on the tasks: does local smoothness grow with the gradient norm?

Two probes of the (L0, L1) condition (Zhang, He, Sra, Jadbabaie, ICLR 2020):

* ``recurrent_scan``: a vanilla tanh RNN on the adding problem with W_hh = s Q (Q orthogonal),
  one run per scale s (batched). L_hat(s) = ||grad f(W + d) - grad f(W)|| / ||d|| for a small
  random direction d; past s = 1 both L_hat and ||grad f|| explode together.
* ``trajectory_smoothness``: along an algorithm's iterates on a task, the secant smoothness
  (theory.smoothness.secant_smoothness) of the upper objective on a fixed evaluation set, the
  whole upper pool, u -> f(u) with u = (x, y), against ||grad f(u_t)||; and of Phi when the task
  has ground truth.

* ``task_radius_scan``: the same scan on a task's own hyperobjective Phi (W_hh of x0 scaled by s),
  with local perturbation smoothness (random directions, not the step just taken, so time does not
  confound it), the x block (Phi) and the y block (y -> grad_y f) reported apart, and (L0, L1)
  fitted with bootstrap intervals (``fit_l0_l1``).

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


def local_smoothness(grad, point: torch.Tensor, directions: int, relative: float,
                     generator: torch.Generator, gradient_direction: bool = True) -> torch.Tensor:
    """(R,) local smoothness max_d ||grad(point + d) - grad(point)|| / ||d|| over ``directions`` random
    directions d and (by default) the gradient direction, ||d|| = relative max(||point||, 1); all perturbed
    points in one batched call of ``grad`` ((M, D) -> (M, D)).

    The gradient direction matters: where the curvature is concentrated in few directions (a ridge, an
    exploding recurrent direction), random directions alone see about 1/sqrt(D) of it."""
    R, D = point.shape
    g0 = grad(point)
    dirs = torch.randn(directions, R, D, generator=generator, dtype=torch.float64).to(point)
    if gradient_direction:
        dirs = torch.cat((dirs, g0.unsqueeze(0)))
    dirs = dirs / dirs.norm(dim=2, keepdim=True).clamp_min(1e-30)
    size = relative * point.norm(dim=1).clamp_min(1.0)
    moved = (point.unsqueeze(0) + size.view(1, R, 1) * dirs).reshape(-1, D)
    g1 = grad(moved).reshape(dirs.shape[0], R, D)
    return ((g1 - g0.unsqueeze(0)).norm(dim=2) / size.unsqueeze(0)).amax(0)


def fit_l0_l1(grad_norm, smoothness, resamples: int = 2000, seed: int = 0) -> dict:
    """Non-negative least-squares line smoothness = L0 + L1 ||grad|| (L0, L1 >= 0) with 95 % bootstrap
    intervals (points resampled).

    A regression summary of the scan, not a certified bound: 'cover_L1' is the smallest L1 for which
    L0 = min(smoothness) and L0 + L1 ||grad|| lies above every point."""
    g, s = np.asarray(grad_norm, dtype=float), np.asarray(smoothness, dtype=float)
    keep = np.isfinite(g) & np.isfinite(s)
    g, s = g[keep], s[keep]
    from scipy.optimize import nnls

    fit = lambda a, b: nnls(np.stack((np.ones_like(a), a), axis=1), b)[0]  # noqa: E731  (L0, L1)
    rng = np.random.default_rng(seed)
    boot = np.array([fit(g[i], s[i]) for i in (rng.integers(0, len(g), len(g)) for _ in range(resamples))
                     if np.ptp(g[i]) > 0])
    l0, l1 = fit(g, s)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    return {"L0": float(l0), "L1": float(l1), "L0_interval": (float(low[0]), float(high[0])),
            "L1_interval": (float(low[1]), float(high[1])),
            "cover_L1": float(np.max((s - s.min())[g > 0] / g[g > 0])) if (g > 0).any() else math.nan}


def task_radius_scan(task, scales=(0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0), directions: int = 3,
                     relative: float = 1e-3, seed: int = 0) -> dict:
    """The recurrent-weight scan on a task's own hyperobjective, x and y blocks separated.

    x_s = x0 with the recurrent matrix W_hh scaled by s (one run per s, batched). The x block: local
    smoothness of Phi (ground truth grad Phi) at x_s against ||grad Phi(x_s)||. The y block: local
    smoothness of y -> grad_y f(x_s, y) at y*(x_s) against ||grad_y f(x_s, y*(x_s))||. Each has its
    Spearman correlation and a fitted (L0, L1) with intervals (fit_l0_l1). Needs a task whose x holds
    a recurrent encoder (hyper_representation, deep_auc) and ground truth.
    """
    task._need_ground_truth()
    if "w_hh" not in getattr(getattr(task, "spec", None), "offsets", {}):
        raise ValueError(f"task {task.name!r} has no recurrent matrix w_hh in x; the scan needs an RNN encoder in x")
    gen = torch.Generator().manual_seed(seed)
    a, b = task.spec.offsets["w_hh"]
    s = torch.tensor(scales, dtype=task.dtype, device=task.device)
    x = task.x0.expand(len(scales), -1).clone()
    x[:, a:b] *= s.unsqueeze(1)
    y = task.y_star(x)

    def grad_y_f(yy):
        return task.grad_f(x.repeat(yy.shape[0] // x.shape[0], 1), yy)[1]

    out = {"scale": s.cpu().numpy(),
           "phi_grad_norm": task.grad_phi(x).norm(dim=1).double().cpu().numpy(),
           "phi_smoothness": local_smoothness(task.grad_phi, x, directions, relative, gen).double().cpu().numpy(),
           "fy_grad_norm": grad_y_f(y).norm(dim=1).double().cpu().numpy(),
           "fy_smoothness": local_smoothness(grad_y_f, y, directions, relative, gen).double().cpu().numpy()}
    for block in ("phi", "fy"):
        out[f"{block}_spearman"] = spearman(out[f"{block}_grad_norm"], out[f"{block}_smoothness"])
        out[f"{block}_fit"] = fit_l0_l1(out[f"{block}_grad_norm"], out[f"{block}_smoothness"])
    return out
