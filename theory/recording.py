"""Per-step recording for the per-realisation probes (descent, step, drift, momentum, secant).

``algorithms.run`` records every k steps and never keeps iterates; the per-step probes need
x_t, x_{t+1} and the momentum that made the step. ``record_steps`` drives the same
``algo.init`` / ``algo.step`` on a small sub-batch and keeps every iterate:

    x[t], y[t], z[t]   the state after t outer iterations (t = 0..T; 0 = after init)
    m[t]               the momentum held after iteration t (m[t] made the step x[t-1] -> x[t]); NaN at 0
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class StepRecord:
    algorithm: str
    hyper: dict
    x: torch.Tensor                 # (T+1, R, d_x)
    y: torch.Tensor                 # (T+1, R, d_y)
    z: torch.Tensor | None          # (T+1, R, d_y) or None
    m: torch.Tensor | None          # (T+1, R, d_x) or None

    @property
    def steps(self) -> int:
        return self.x.shape[0] - 1

    @property
    def runs(self) -> int:
        return self.x.shape[1]


def record_steps(algo, problem, runs: int, steps: int, seed: int = 0, run_ids=None) -> StepRecord:
    """Run ``algo`` for ``steps`` iterations on ``runs`` seeds, keeping every iterate (float64)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    oracle = problem.oracle(runs=runs, seed=seed, run_ids=run_ids)
    R = oracle.runs
    state = algo.init(oracle, problem.batch(problem.x0, R), problem.batch(problem.y0, R))
    xs, ys, zs, ms = [state.x], [state.y], [state.z], [None]
    for _ in range(steps):
        state = algo.step(oracle, state)
        xs.append(state.x)
        ys.append(state.y)
        zs.append(state.z)
        ms.append(state.m)
    has_z = all(z is not None for z in zs)
    has_m = all(m is not None for m in ms[1:])
    m = None
    if has_m:
        m = torch.stack([torch.full_like(ms[1], float("nan"))] + ms[1:])
    return StepRecord(algorithm=algo.name, hyper=algo.hyper(), x=torch.stack(xs), y=torch.stack(ys),
                      z=torch.stack(zs) if has_z else None, m=m)
