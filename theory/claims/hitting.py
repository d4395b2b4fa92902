"""Oracle calls until the stationarity average first reaches eps, all seeds in one batched loop that stops
as soon as every seed has hit (or at a stated step cap).

    A_r(T) = (1/T) sum_{t=1..T} ||grad Phi(x_t)||       (the measure the three theorems bound, exact:
                                                          every iterate enters, no Riemann sum)
    C_r(eps) = oracle calls of run r (warm start included) at the first T with A_r(T) <= eps

Runs that never hit within ``max_steps`` are right-censored (C = +inf) and counted, never dropped; a run
whose state turns non-finite is frozen (as in algorithms.run), counted as diverged and censored.
The loop drives ``algorithm.init`` / ``algorithm.step`` on the problem's batched oracle directly (the
runner has no early stop); noise streams are those of ``algorithms.run`` with the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Hits:
    calls: np.ndarray       # (R,) oracle calls at the first hit, +inf if censored or diverged
    steps: np.ndarray       # (R,) outer iterations at the first hit, +inf likewise
    diverged: np.ndarray    # (R,) bool
    steps_run: int          # iterations actually run (<= max_steps)

    @property
    def censored(self) -> int:
        return int((~np.isfinite(self.calls)).sum())


def calls_to_hit(algorithm, problem, runs: int, eps: float, max_steps: int, seed: int = 0) -> Hits:
    """Run ``runs`` seeds until each one's stationarity average A_r(T) <= eps, or ``max_steps``."""
    if not (eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
    oracle = problem.oracle(runs=runs, seed=seed)
    R = oracle.runs
    state = algorithm.init(oracle, problem.x0.expand(R, -1).clone(), problem.y0.expand(R, -1).clone())
    alive = state.finite_rows()
    oracle.active &= alive
    total = torch.zeros(R, dtype=torch.float64, device=problem.device)
    hit_calls = torch.full((R,), math.inf, dtype=torch.float64, device=problem.device)
    hit_steps = hit_calls.clone()
    pending = alive.clone()
    t = 0
    for t in range(1, int(max_steps) + 1):
        prev = state
        state = algorithm.step(oracle, state)
        bad = alive & ~state.finite_rows()
        if bool(bad.any()):
            alive &= ~bad
            pending &= alive
            oracle.active &= alive
        if not bool(alive.all()):
            state = state.where(alive, prev)
        total += torch.linalg.vector_norm(problem.grad_phi(state.x), dim=1)
        now = pending & (total <= eps * t)
        if bool(now.any()):
            hit_calls[now] = oracle.total_calls[now].to(torch.float64)
            hit_steps[now] = float(t)
            pending &= ~now
            if not bool(pending.any()):
                break
    return Hits(calls=hit_calls.cpu().numpy(), steps=hit_steps.cpu().numpy(),
                diverged=(~alive).cpu().numpy(), steps_run=t)
