"""A fair comparison of the methods on one task: a per-method step-size grid, several seeds, selection
on a held-out split, held-out metrics with confidence intervals, and single-level baselines.

For every method m and every eta in the grid, ``suggested_hyper(task, m, eta)`` sets m's main step
(normalized methods: step length eta; SGD-type: alpha = eta / ||grad Phi(x0)||; AdamBO: eta / 100 per
coordinate) and the lower-level steps from the task's curvature. All seeds of one (m, eta) run as
one batched program. Each method's eta is the one with the best mean accuracy on the task's 'select'
pool at the last step; the table reports that eta's accuracy on the 'test' pool (never used for any
choice): mean, 95 % Student-t interval over seeds, and every seed's value.

Single-level baselines (same pools):
    majority      the most frequent test label
    start         the bilevel start: x0 and y*(x0) (a head fitted on the lower pool, encoder at x0)
    upper head    a head fitted on the upper pool alone at x0 (hyper-cleaning: the clean validation split)
    joint head    a head fitted on the lower and upper pools together at x0 (single level, no reweighting)
    joint Adam    x and y trained together with Adam on the lower and upper pools (tasks whose x holds an
                  encoder; lr chosen on 'select' from a grid, the same seeds and steps as the methods)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from ubo import algorithms
from ubo.tasks import head
from ubo.tasks.tuning import suggested_hyper

METHODS = ("slip", "borep", "adambo", "ma_soba", "stocbio")
PAPERS_METHODS = ("slip", "borep", "adambo")
ETAS = (0.1, 0.3, 1.0)
ADAM_LRS = (1e-3, 3e-3, 1e-2)


def interval(values) -> tuple[float, float, float]:
    """(mean, low, high): a 95 % Student-t interval of the mean over seeds (NaN values dropped)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


def _check(task) -> None:
    if "select" not in task.pools or not hasattr(task, "accuracy"):
        raise ValueError(f"task {task.name!r} has no 'select' pool to choose hyperparameters on; "
                         "compare supports hyper_representation, hyper_cleaning and hyperparam_opt")
    if not hasattr(task, "features"):
        raise ValueError(f"task {task.name!r} with lower='rnn' has no frozen features for the single-level "
                         "baselines (a head fitted on the select/train pools); compare needs lower='head'")


def run_grid(task, methods=METHODS, etas=ETAS, seeds: int = 4, steps: int = 400, seed: int = 0,
             progress=None) -> tuple[pd.DataFrame, dict]:
    """One row per (method, eta, seed) with the last step's select/test accuracy; also the traces."""
    _check(task)
    rows, traces = [], {}
    for method in methods:
        for eta in etas:
            if progress is not None:
                progress(f"{method} eta={eta}")
            algo = algorithms.make(method, **suggested_hyper(task, method, eta))
            trace = algorithms.run(algo, task, runs=seeds, steps=steps, seed=seed, record_every=max(1, steps // 8))
            traces[(method, eta)] = trace
            adapted = trace.series.get("adapted_test_accuracy")
            for r in range(seeds):
                rows.append({"method": method, "eta": eta, "seed": r,
                             "select": float(trace.series["select_accuracy"][-1, r]),
                             "test": float(trace.series["test_accuracy"][-1, r]),
                             "adapted": math.nan if adapted is None else float(adapted[-1, r]),
                             "upper_loss": float(trace.series["upper_loss"][-1, r]),
                             "diverged": bool(trace.diverged[r]), "seconds": trace.meta["wall_time"] / seeds})
    return pd.DataFrame(rows), traces


def select_best(grid: pd.DataFrame) -> pd.DataFrame:
    """Per method: the eta with the best mean select accuracy, its test accuracy with a 95 % interval."""
    out = []
    for method, part in grid.groupby("method", sort=False):
        by_eta = part.groupby("eta")["select"].mean()
        eta = float(by_eta.idxmax())
        best = part[part["eta"] == eta]
        mean, low, high = interval(best["test"])
        row = {"method": method, "eta": eta, "select": float(by_eta.max()), "test": mean, "low": low,
               "high": high, "per_seed": " ".join(f"{v:.3f}" for v in best["test"]),
               "diverged": int(best["diverged"].sum())}
        if "adapted" in best and best["adapted"].notna().any():
            row.update(_adapted_cells(best["adapted"]))
        out.append(row)
    return pd.DataFrame(out)


def _adapted_cells(values) -> dict:
    """The test-time adaptation metric's cells of a table row: mean, 95 % interval, per seed."""
    mean, low, high = interval(values)
    return {"adapted": mean, "adapted_low": low, "adapted_high": high,
            "adapted_per_seed": " ".join(f"{float(v):.3f}" for v in values)}


def _fit_head(task, x, pools: tuple[str, ...]) -> torch.Tensor:
    """A head fitted exactly (damped Newton) on whole pools with uniform weights, encoder at x."""
    feats, labels = [], []
    with torch.no_grad():
        for pool in pools:
            n = len(task.pools[pool])
            idx = torch.arange(n, device=task.device).expand(x.shape[0], n)
            feats.append(task.features(x, pool, idx))
            labels.append(task.pools[pool].labels[idx])
        feats, labels = torch.cat(feats, 1), torch.cat(labels, 1)
        weights = torch.full(labels.shape, 1.0 / labels.shape[1], dtype=task.dtype, device=task.device)
        return head.newton(feats, labels, weights, task.penalty(x), task.classes)


def joint_adam(task, lr: float, seeds: int, steps: int, seed: int = 0, batch: int = 40):
    """Single-level ERM: Adam on (x, y) together, cross-entropy on mini-batches of the lower and upper
    pools (+ the task's penalty on y); returns the final (x, y), one row per seed."""
    gen = torch.Generator().manual_seed(seed + 7919)
    x = task.x0.expand(seeds, -1).clone().requires_grad_(True)
    y = task.y0.expand(seeds, -1).clone().requires_grad_(True)
    opt = torch.optim.Adam([x, y], lr=lr)
    sizes = {pool: len(task.pools[pool]) for pool in ("lower", "upper")}
    for _ in range(steps):
        with torch.enable_grad():
            loss = 0.5 * (task.penalty(x) * y * y).sum()
            for pool, n in sizes.items():
                idx = torch.randint(n, (seeds, batch // 2), generator=gen).to(task.device)
                ce = head.cross_entropy(y, task.features(x, pool, idx), task.pools[pool].labels[idx], task.classes)
                loss = loss + ce.mean(1).sum() / 2
            opt.zero_grad()
            loss.backward()
        opt.step()
    return x.detach(), y.detach()


def baselines(task, seeds: int = 4, steps: int = 400, seed: int = 0, lrs=ADAM_LRS, progress=None) -> pd.DataFrame:
    """The single-level baselines of the module docstring, one row each (test accuracy with interval)."""
    _check(task)
    labels = task.pools["test"].labels
    majority = float(torch.bincount(labels, minlength=task.classes).max()) / len(labels)
    x0 = task.x0.unsqueeze(0)
    rows = [{"method": "majority", "eta": math.nan, "test": majority, "per_seed": ""}]
    adapt = getattr(task, "adapt_shots", None)
    for name, pool in (("start: y*(x0)", ("lower",)), ("upper head at x0", ("upper",)),
                       ("joint head at x0 (all training data)", ("lower", "upper"))):
        y = _fit_head(task, x0, pool)
        rows.append({"method": name, "eta": math.nan, "select": float(task.accuracy(x0, y, "select")[0]),
                     "test": float(task.accuracy(x0, y)[0]), "per_seed": ""})
        if adapt and name.startswith("start"):  # adaptation refits the head: one value for the encoder x0
            rows[-1]["adapted"] = float(task.adapted_accuracy(x0)[0])
    if hasattr(task, "spec") and lrs:  # x holds an encoder: train it with the head, single level
        best = None
        for lr in lrs:
            if progress is not None:
                progress(f"joint Adam lr={lr}")
            x, y = joint_adam(task, lr, seeds, steps, seed)
            sel, test = task.accuracy(x, y, "select"), task.accuracy(x, y)
            if best is None or float(sel.mean()) > best[1]:
                best = (lr, float(sel.mean()), test, x)
        mean, low, high = interval(best[2].tolist())
        rows.append({"method": "joint Adam (all training data)", "eta": best[0], "select": best[1], "test": mean,
                     "low": low, "high": high, "per_seed": " ".join(f"{v:.3f}" for v in best[2].tolist())})
        if adapt:
            rows[-1].update(_adapted_cells(task.adapted_accuracy(best[3]).tolist()))
    return pd.DataFrame(rows)


def verdict(best: pd.DataFrame, base: pd.DataFrame, metric: str = "test") -> str:
    """One sentence: does a method of the papers beat every other method and baseline on ``metric`` ('test':
    zero-shot test accuracy; 'adapted': after test-time adaptation), beyond the 95 % intervals?"""
    low_key, high_key = ("low", "high") if metric == "test" else (f"{metric}_low", f"{metric}_high")
    frames = [f for f in (best, base) if metric in f]
    if not frames:
        return "not enough methods to compare"
    rows = pd.concat(frames, ignore_index=True).dropna(subset=[metric])
    for key in (low_key, high_key):
        rows[key] = rows[key] if key in rows else math.nan
    ours, others = rows[rows["method"].isin(PAPERS_METHODS)], rows[~rows["method"].isin(PAPERS_METHODS)]
    if ours.empty or others.empty:
        return "not enough methods to compare"
    top, rival = ours.loc[ours[metric].idxmax()], others.loc[others[metric].idxmax()]
    rival_high = rival[high_key] if np.isfinite(rival[high_key]) else rival[metric]
    top_low = top[low_key] if np.isfinite(top[low_key]) else top[metric]
    if top_low > rival_high:
        return (f"yes at this scale: {top['method']} ({top[metric]:.3f}) beats the best other method or baseline, "
                f"{rival['method']} ({rival[metric]:.3f}), beyond the 95 % intervals")
    if top[metric] > rival[metric]:
        return (f"not shown: {top['method']} ({top[metric]:.3f}) is ahead of {rival['method']} "
                f"({rival[metric]:.3f}) but within the 95 % intervals")
    return (f"no at this scale: the best method of the papers, {top['method']} ({top[metric]:.3f}), does not beat "
            f"{rival['method']} ({rival[metric]:.3f})")
