"""Run R independent copies of an algorithm as one batched tensor program and record a Trace.

    trace = run(algo, problem, runs=R, steps=T, seed=s, record_every=k)

Recorded at iterations 0 (after init), k, 2k, ..., T, per run: oracle calls by kind (cumulative),
||grad Phi(x_t)||, Phi(x_t), ||y_t - y*(x_t)||, ||z_t - z*(x_t)||, ||m_t - grad Phi(x_t)||, the last step
length ||x_t - x_{t-1}|| (NaN at 0), plus problem.metrics(x, y). Ground-truth series are NaN when the
problem has none (realistic tasks) or the method carries no z / m.

Divergence: after every step, a run whose state holds a non-finite entry (tested on per-run sums, so
a state whose entries sum beyond float range also counts) is frozen at its last finite state, stops
counting oracle calls (oracle.active[r] = False) and gets diverged_at[r] = t (the iteration whose
update was non-finite; 0 = during init). The other runs go on.
"""

from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from ubo.algorithms.base import check_int
from ubo.algorithms.state import State
from ubo.synthetic.oracle import KINDS

GROUND_TRUTH = ("grad_phi_norm", "phi", "y_error", "z_error", "m_error")
CALLS = tuple(f"calls_{k}" for k in KINDS) + ("oracle_calls",)
SERIES = GROUND_TRUTH + ("step_length",) + CALLS
AUTO_PROGRESS_STEPS = 10_000


class _Recorder:
    """Preallocated (K, R) series, filled at the recorded steps."""

    def __init__(self, problem, oracle, steps: int, record_every: int):
        marks = list(range(0, steps + 1, record_every))
        if marks[-1] != steps:
            marks.append(steps)
        self.step = torch.tensor(marks, dtype=torch.int64)
        self.marks = set(marks)
        self.problem, self.oracle = problem, oracle
        R, dtype, device = oracle.runs, problem.dtype, problem.device
        self.series = {n: torch.full((len(marks), R), math.nan, dtype=torch.float64, device=device) for n in SERIES}
        self.row = 0
        self.dtype = dtype

    def record(self, state: State, prev: State | None) -> None:
        i, s, p = self.row, self.series, self.problem
        x, y = state.x, state.y
        if p.has_ground_truth:
            gp = p.grad_phi(x)
            s["grad_phi_norm"][i] = gp.norm(dim=1)
            s["phi"][i] = p.phi(x)
            s["y_error"][i] = (y - p.y_star(x)).norm(dim=1)
            if state.z is not None:
                s["z_error"][i] = (state.z - p.z_star(x)).norm(dim=1)
            if state.m is not None:
                s["m_error"][i] = (state.m - gp).norm(dim=1)
        if prev is not None:
            s["step_length"][i] = (x - prev.x).norm(dim=1)
        counts = self.oracle.counts.to(torch.float64)
        for j, kind in enumerate(KINDS):
            s[f"calls_{kind}"][i] = counts[:, j]
        s["oracle_calls"][i] = counts.sum(dim=1)
        for name, value in p.metrics(x, y).items():
            if name not in s:
                s[name] = torch.full_like(s["phi"], math.nan)
            s[name][i] = value.to(torch.float64)
        self.row += 1


class _Summary:
    """Aggregates over every iteration t < T (needs ground truth): avg/min ||grad Phi||, max errors, step lengths."""

    def __init__(self, runs: int, steps: int, device):
        inf = torch.full((runs,), math.inf, dtype=torch.float64, device=device)
        self.steps = steps
        self.sum_grad = torch.zeros_like(inf)
        self.min_grad, self.min_step = inf.clone(), inf.clone()
        self.max_y, self.max_z, self.max_step = -inf, -inf, -inf

    def before_step(self, problem, state: State) -> None:
        norm = problem.grad_phi(state.x).norm(dim=1)
        self.sum_grad += norm
        self.min_grad = torch.minimum(self.min_grad, norm)
        self.errors(problem, state)

    def errors(self, problem, state: State) -> None:
        self.max_y = torch.maximum(self.max_y, (state.y - problem.y_star(state.x)).norm(dim=1))
        if state.z is not None:
            self.max_z = torch.maximum(self.max_z, (state.z - problem.z_star(state.x)).norm(dim=1))

    def after_step(self, state: State, prev: State) -> None:
        length = (state.x - prev.x).norm(dim=1)
        self.max_step = torch.maximum(self.max_step, length)
        self.min_step = torch.minimum(self.min_step, length)

    def result(self, has_z: bool) -> dict:
        nan = torch.full_like(self.sum_grad, math.nan)
        return {"avg_grad_phi_norm": self.sum_grad / max(self.steps, 1), "min_grad_phi_norm": self.min_grad,
                "max_y_error": self.max_y, "max_z_error": self.max_z if has_z else nan,
                "max_step_length": self.max_step, "min_step_length": self.min_step}


def run(algorithm, problem, runs: int = 1, steps: int = 100, seed: int = 0, record_every: int = 1,
        run_ids=None, progress: bool | None = None, every_step_summary: bool = False,
        x0: torch.Tensor | None = None, y0: torch.Tensor | None = None):
    """Run ``runs`` seeds of ``algorithm`` on ``problem`` for ``steps`` outer iterations; return a Trace.

    x0, y0: (d,) or (R, d) starts (default: the problem's). run_ids: which run ids of the seed's
    streams to run (default 0..runs-1); run r's numbers depend on (seed, r) only.
    every_step_summary: also aggregate ground-truth quantities over every iteration (slower).
    """
    from ubo.algorithms.trace import Trace

    check_int("steps", steps, 0)
    check_int("record_every", record_every, 1)
    check_int("seed", seed, 0)
    if progress not in (None, True, False):
        raise ValueError(f"progress must be None (auto), True or False, got {progress!r}")
    if every_step_summary and not problem.has_ground_truth:
        raise ValueError("every_step_summary needs a problem with ground truth (has_ground_truth=True)")
    oracle = problem.oracle(runs=runs, seed=seed, run_ids=run_ids)
    R = oracle.runs
    x0 = problem.x0 if x0 is None else x0
    y0 = problem.y0 if y0 is None else y0
    x0, y0 = (p.to(problem.device, problem.dtype) for p in (x0, y0))
    x0 = x0.expand(R, -1).clone() if x0.dim() == 1 else x0
    y0 = y0.expand(R, -1).clone() if y0.dim() == 1 else y0
    if x0.shape != (R, problem.dim_x) or y0.shape != (R, problem.dim_y):
        raise ValueError(f"x0, y0 must have shapes ({problem.dim_x},) / ({R}, {problem.dim_x}) and "
                         f"({problem.dim_y},) / ({R}, {problem.dim_y}); got {tuple(x0.shape)}, {tuple(y0.shape)}")

    start = time.perf_counter()
    recorder = _Recorder(problem, oracle, steps, record_every)
    summary = _Summary(R, steps, problem.device) if every_step_summary else None
    diverged_at = torch.full((R,), -1, dtype=torch.int64, device=problem.device)
    alive = torch.ones(R, dtype=torch.bool, device=problem.device)

    state = algorithm.init(oracle, x0, y0)
    bad = ~state.finite_rows()
    any_dead = bool(bad.any())
    if any_dead:
        diverged_at[bad] = 0
        alive &= ~bad
        oracle.active &= alive
    recorder.record(state, None)

    show = steps >= AUTO_PROGRESS_STEPS if progress is None else progress
    bar = tqdm(total=steps, disable=not show, desc=algorithm.name, leave=False)
    last_mark = 0
    for t in range(1, steps + 1):
        prev = state
        if summary is not None:
            summary.before_step(problem, state)
        state = algorithm.step(oracle, state)
        bad = alive & ~state.finite_rows()
        if bool(bad.any()):
            diverged_at[bad] = t
            alive &= ~bad
            oracle.active &= alive
            any_dead = True
        if any_dead:
            state = state.where(alive, prev)
        if summary is not None:
            summary.after_step(state, prev)
        if t in recorder.marks:
            recorder.record(state, prev)
            bar.update(t - last_mark)
            last_mark = t
    bar.close()
    if summary is not None and steps > 0:
        summary.errors(problem, state)

    constants = getattr(problem, "constants", None)
    meta = {
        "algorithm": algorithm.name, "hyper": algorithm.hyper(), "problem": problem.name,
        "problem_params": dict(getattr(problem, "params", {})),
        "constants": constants.as_dict() if constants is not None else None,
        "runs": R, "run_ids": oracle.run_ids.tolist(), "steps": steps, "seed": seed,
        "record_every": record_every, "wall_time": time.perf_counter() - start,
    }
    return Trace(step=recorder.step, series=recorder.series, diverged=diverged_at >= 0, diverged_at=diverged_at,
                 meta=meta, summary=summary.result(state.z is not None) if summary is not None else {})
