"""Local perturbation smoothness at an algorithm's iterates, block by block, with a fitted (L0, L1).

At every ``every``-th iterate (x_t, y_t) of a run, for each block B and its gradient map G_B:

    L_hat_B(t) = max_d ||G_B(p_t + d) - G_B(p_t)|| / ||d||,   ||d|| = relative max(||p_t||, 1)

over a few random directions d and the gradient direction (tasks.smoothness.local_smoothness), held
against ||G_B(p_t)||. The blocks are kept apart, since the papers assume different things of them:

    phi   x -> grad Phi(x)            at x_t         (upper level, ground truth; (L0, L1) in the papers)
    f_x   x -> grad_x f(x, y_t)       at x_t         (upper level, x block of f)
    f_y   y -> grad_y f(x_t, y)       at y_t         (upper level, y block of f)
    g_y   y -> grad_y g(x_t, y)       at y_t         (lower level: l_g1-smooth in the papers' A2)

Unlike the secant along the step (tasks.smoothness.trajectory_smoothness) the perturbation is random and
small, so the estimate describes the function at the iterate, not the step the method happened to take.
``fit_blocks`` fits L_hat = L0 + L1 ||G|| (non-negative least squares, 95 % bootstrap intervals) over all
recorded iterates and runs of a block: a regression summary of where the iterates went, not a certificate.
A block whose gradient is identically zero (f_x on hyper-cleaning and HO, where f does not depend on x)
is dropped.
"""

from __future__ import annotations

import pandas as pd
import torch

from ubo.progress import tqdm
from ubo.tasks.smoothness import fit_l0_l1, local_smoothness, spearman

BLOCKS = ("phi", "f_x", "f_y", "g_y")


def _block_maps(task, x, y):
    """{block: (point, gradient map)} at the iterate (x, y); a map accepts k stacked copies of the batch."""
    R = x.shape[0]

    def tile(t, rows):
        return t.repeat(rows // R, 1)

    maps = {"f_x": (x, lambda xx: task.grad_f(xx, tile(y, xx.shape[0]))[0]),
            "f_y": (y, lambda yy: task.grad_f(tile(x, yy.shape[0]), yy)[1]),
            "g_y": (y, lambda yy: task.grad_y_g(tile(x, yy.shape[0]), yy))}
    if task.has_ground_truth:
        maps["phi"] = (x, task.grad_phi)
    return maps


def iterate_smoothness(task, algorithm, steps: int = 200, every: int = 20, runs: int = 2, seed: int = 0,
                       directions: int = 3, relative: float = 1e-3, blocks=BLOCKS,
                       progress: bool = True) -> pd.DataFrame:
    """Tidy frame (step, run, block, grad_norm, smoothness) at iterates 0, every, 2 every, ..., steps."""
    unknown = set(blocks) - set(BLOCKS)
    if unknown:
        raise ValueError(f"blocks must be among {BLOCKS}, got {sorted(unknown)}")
    for name, value in (("steps", steps), ("every", every), ("runs", runs), ("directions", directions)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name in ("steps", "directions")
                                                                             else 1):
            raise ValueError(f"{name} must be a non-negative int (every and runs >= 1), got {value!r}")
    if "phi" in blocks and not task.has_ground_truth:
        blocks = tuple(b for b in blocks if b != "phi")
    gen = torch.Generator().manual_seed(seed + 17)
    oracle = task.oracle(runs=runs, seed=seed)
    state = algorithm.init(oracle, task.batch(task.x0, runs), task.batch(task.y0, runs))
    rows = []
    for t in tqdm(range(steps + 1), desc=f"{task.name}: local smoothness", disable=not progress, leave=False):
        if t % every == 0:
            maps = _block_maps(task, state.x, state.y)
            for block in blocks:
                point, grad = maps[block]
                with torch.no_grad():
                    norm = grad(point).norm(dim=1)
                if float(norm.max()) == 0.0:
                    continue  # the block's gradient vanishes identically (f independent of x)
                smooth = local_smoothness(grad, point, directions, relative, gen)
                finite = torch.isfinite(state.x).all(1) & torch.isfinite(state.y).all(1)
                for r in range(runs):
                    if bool(finite[r]):
                        rows.append((t, r, block, float(norm[r]), float(smooth[r])))
        if t < steps:
            state = algorithm.step(oracle, state)
    return pd.DataFrame(rows, columns=["step", "run", "block", "grad_norm", "smoothness"])


def fit_blocks(frame: pd.DataFrame, resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per block: points, gradient-norm and smoothness ranges, Spearman, fitted L0, L1 with 95 % intervals."""
    rows = []
    for block, part in frame.groupby("block", sort=False):
        g, s = part["grad_norm"].to_numpy(), part["smoothness"].to_numpy()
        fit = fit_l0_l1(g, s, resamples=resamples, seed=seed)
        rows.append({"block": block, "points": len(part), "grad_min": g.min(), "grad_max": g.max(),
                     "smooth_min": s.min(), "smooth_max": s.max(), "spearman": spearman(g, s),
                     "L0": fit["L0"], "L0_low": fit["L0_interval"][0], "L0_high": fit["L0_interval"][1],
                     "L1": fit["L1"], "L1_low": fit["L1_interval"][0], "L1_high": fit["L1_interval"][1]})
    return pd.DataFrame(rows)
