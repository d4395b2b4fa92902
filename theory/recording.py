"""Per-step recording over the whole horizon for the per-realisation probes.

``algorithms.run`` records every k steps and never keeps iterates; the per-step probes need
x_t, x_{t+1}, the hypergradient estimate h_t the method formed, and the momentum that made the step.
``record_steps`` drives the same ``algo.init`` / ``algo.step`` on a small sub-batch for every step of
the job's horizon and keeps every iterate (float64; R = 8-16 runs x T = 2000 steps is a few MB):

    x[t], y[t], z[t]   the state after t outer iterations (t = 0..T; 0 = after init)
    m[t], h[t]         the momentum / first moment and the hypergradient estimate held after
                       iteration t (m[t] and h[t] were formed in step t-1 -> t); NaN at t = 0
    v[t]               Adam's second moment (State.aux["v"]) when the method has one

``problem`` records the recorded problem's identity (name, dimensions, constants), which the probes
compare with the problem they are given (``check_problem``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class StepRecord:
    algorithm: str
    hyper: dict
    x: torch.Tensor                 # (T+1, R, d_x)
    y: torch.Tensor                 # (T+1, R, d_y)
    z: torch.Tensor | None          # (T+1, R, d_y) or None
    m: torch.Tensor | None          # (T+1, R, d_x) or None
    h: torch.Tensor | None = None   # (T+1, R, d_x) or None
    v: torch.Tensor | None = None   # (T+1, R, d_x) or None
    problem: dict = field(default_factory=dict)
    noise_free: bool = False

    @property
    def steps(self) -> int:
        return self.x.shape[0] - 1

    @property
    def runs(self) -> int:
        return self.x.shape[1]


def problem_identity(problem) -> dict:
    """What a record or trace must agree on with the problem a probe is given."""
    c = getattr(problem, "constants", None)
    return {"name": problem.name, "dim_x": problem.dim_x, "dim_y": problem.dim_y,
            "constants": c.as_dict() if c is not None else None}


def check_problem(recorded: dict, problem, what: str = "record") -> None:
    """ValueError naming the first mismatch between a record's (or trace's) problem and ``problem``."""
    given = problem_identity(problem)
    for key in ("name", "dim_x", "dim_y"):
        if key in recorded and recorded[key] != given[key]:
            raise ValueError(f"problem does not match the {what}: {key} is {given[key]!r} in the problem given, "
                             f"{recorded[key]!r} in the {what}")
    theirs, ours = recorded.get("constants"), given["constants"]
    if theirs and ours:
        for key, value in theirs.items():
            other = ours.get(key)
            same = value == other or (isinstance(value, float) and isinstance(other, float)
                                      and math.isclose(value, other, rel_tol=1e-12, abs_tol=1e-15))
            if not same:
                raise ValueError(f"problem does not match the {what}: constant {key} is {other!r} in the problem "
                                 f"given, {value!r} in the {what}")


def check_trace(trace, problem) -> None:
    """The trace's recorded problem (runner meta) must be the problem given to a probe."""
    meta = trace.meta
    dims = {}
    if "dim_x" in meta.get("problem_params", {}):
        dims = {"dim_x": meta["problem_params"]["dim_x"], "dim_y": meta["problem_params"]["dim_y"]}
    check_problem({"name": meta.get("problem"), **dims, "constants": meta.get("constants")}, problem, "trace")


def record_steps(algo, problem, runs: int, steps: int, seed: int = 0, run_ids=None) -> StepRecord:
    """Run ``algo`` for ``steps`` iterations on ``runs`` seeds, keeping every iterate (float64)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    oracle = problem.oracle(runs=runs, seed=seed, run_ids=run_ids)
    R = oracle.runs
    state = algo.init(oracle, problem.batch(problem.x0, R), problem.batch(problem.y0, R))
    keep = {"x": [state.x], "y": [state.y], "z": [state.z], "m": [None], "h": [None], "v": [None]}
    for _ in range(steps):
        state = algo.step(oracle, state)
        for name, value in (("x", state.x), ("y", state.y), ("z", state.z), ("m", state.m), ("h", state.h),
                            ("v", state.aux.get("v"))):
            keep[name].append(value)

    def stack(name: str, first_is_state: bool):
        values = keep[name] if first_is_state else keep[name][1:]
        if any(v is None for v in values):
            return None
        if first_is_state:
            return torch.stack(values)
        return torch.stack([torch.full_like(values[0], math.nan)] + values)

    noise = getattr(problem, "noise", {})
    return StepRecord(algorithm=algo.name, hyper=algo.resolved(problem).hyper(), x=stack("x", True), y=stack("y", True),
                      z=stack("z", True), m=stack("m", False), h=stack("h", False), v=stack("v", False),
                      problem=problem_identity(problem),
                      noise_free=all(not law.active for law in noise.values()) if noise else False)
