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

Feedback and guards: a run expected to take more than AUTO_PROGRESS_SECONDS (estimated from its first
steps) shows a tqdm bar; an init (warm start, Epoch-SGD) still running after AUTO_PROGRESS_SECONDS
shows its own bar of oracle calls. Before any work, the memory of the recorded series and of the state
(``memory_estimate``) is compared with the memory available, and a run that cannot fit is refused.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import torch

from ubo.algorithms.base import check_int
from ubo.algorithms.shards import check_workers, run_sharded
from ubo.algorithms.state import State
from ubo.progress import tqdm
from ubo.synthetic.oracle import KINDS
from ubo.synthetic.problem import as_number, check_seed

GROUND_TRUTH = ("grad_phi_norm", "phi", "y_error", "z_error", "m_error")
CALLS = tuple(f"calls_{k}" for k in KINDS) + ("oracle_calls",)
SERIES = GROUND_TRUTH + ("step_length",) + CALLS
AUTO_PROGRESS_SECONDS = 3.0  # runs (and inits) expected to take longer show a progress bar
_ESTIMATE_AFTER = 0.2        # seconds of stepping before the duration estimate is trusted
STATE_COPIES = 16            # (R, dim_x + dim_y) float64 tensors alive at once (state, previous, oracle work)


def memory_estimate(runs: int, steps: int, record_every: int, dim_x: int, dim_y: int, series: int = len(SERIES)) -> int:
    """Bytes a run needs: recorded series (K marks x R runs x series x 8) plus the working state."""
    marks = steps // record_every + 2
    return 8 * (marks * runs * series + STATE_COPIES * runs * (dim_x + dim_y))


def available_memory(device: torch.device) -> int | None:
    """Free bytes on the device (MemAvailable for the CPU); None when unknown."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(runs: int, steps: int, record_every: int, dim_x: int, dim_y: int, device="cpu") -> int:
    """Refuse (ValueError with the estimate) a run whose memory estimate exceeds what is available."""
    need = memory_estimate(runs, steps, record_every, dim_x, dim_y)
    free = available_memory(torch.device(device))
    if free is not None and need > free:
        raise ValueError(f"runs={runs} x steps={steps} (record_every={record_every}) needs about "
                         f"{need / 2**30:.3g} GiB (recorded series + state) but {free / 2**30:.3g} GiB are available: "
                         f"lower runs or steps, or raise record_every")
    return need


def _start(name: str, point, problem, R: int, dim: int) -> torch.Tensor:
    """A (d,) or (R, d) start as a float tensor on the problem's device (numpy arrays and lists converted)."""
    if isinstance(point, (np.ndarray, list, tuple)):
        point = torch.as_tensor(np.asarray(point))
    if not isinstance(point, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor, numpy array or list of shape ({dim},) or ({R}, {dim}), "
                         f"got {type(point).__name__}")
    if point.is_complex() or point.dtype == torch.bool:
        raise ValueError(f"{name} must be real, got dtype {point.dtype}")
    point = point.detach().to(problem.device, problem.dtype)
    if not bool(torch.isfinite(point).all()):
        raise ValueError(f"{name} must be finite, got a start with NaN or inf entries")
    return point


class _Progress:
    """The run's bars: init (oracle calls, after AUTO_PROGRESS_SECONDS) and steps (estimated from the first steps)."""

    def __init__(self, mode: bool | None, steps: int, name: str):
        self.mode, self.steps, self.name, self.bar = mode, steps, name, None

    def init_bar(self, oracle) -> tqdm:
        delay = 0 if self.mode else AUTO_PROGRESS_SECONDS
        bar = tqdm(desc=f"{self.name} init", unit=" oracle calls", delay=delay, disable=self.mode is False,
                   leave=False)
        oracle.on_call = bar.update
        return bar

    def start(self) -> None:
        self.begin = time.perf_counter()
        if self.mode:
            self.bar = tqdm(total=self.steps, desc=self.name, leave=False)

    def step(self, t: int) -> None:
        if self.bar is not None:
            self.bar.update()
        elif self.mode is None:
            elapsed = time.perf_counter() - self.begin
            if elapsed >= _ESTIMATE_AFTER and elapsed / t * self.steps > AUTO_PROGRESS_SECONDS and t < self.steps:
                self.bar = tqdm(total=self.steps, initial=t, desc=self.name, leave=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
            s["grad_phi_norm"][i] = torch.linalg.vector_norm(gp, dim=1)
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
        norm = torch.linalg.vector_norm(problem.grad_phi(state.x), dim=1)
        self.sum_grad += norm
        self.min_grad = torch.minimum(self.min_grad, norm)
        self.errors(problem, state)

    def errors(self, problem, state: State) -> None:
        self.max_y = torch.maximum(self.max_y, torch.linalg.vector_norm(state.y - problem.y_star(state.x), dim=1))
        if state.z is not None:
            self.max_z = torch.maximum(self.max_z, torch.linalg.vector_norm(state.z - problem.z_star(state.x), dim=1))

    def after_step(self, state: State, prev: State) -> None:
        length = torch.linalg.vector_norm(state.x - prev.x, dim=1)
        self.max_step = torch.maximum(self.max_step, length)
        self.min_step = torch.minimum(self.min_step, length)

    def result(self, has_z: bool) -> dict:
        nan = torch.full_like(self.sum_grad, math.nan)
        return {"avg_grad_phi_norm": self.sum_grad / max(self.steps, 1), "min_grad_phi_norm": self.min_grad,
                "max_y_error": self.max_y, "max_z_error": self.max_z if has_z else nan,
                "max_step_length": self.max_step, "min_step_length": self.min_step}


def _hyper_used(algorithm, problem) -> dict:
    """The hyperparameters the run uses: problem-supplied values ("paper", "problem") resolved to numbers
    by ``Algorithm.resolved``; a duck-typed algorithm without it records its own ``hyper()``."""
    resolved = getattr(algorithm, "resolved", None)
    return (algorithm if resolved is None else resolved(problem)).hyper()


def run(algorithm, problem, runs: int = 1, steps: int = 100, seed: int = 0, record_every: int = 1,
        run_ids=None, progress: bool | None = None, every_step_summary: bool = False,
        x0: torch.Tensor | None = None, y0: torch.Tensor | None = None, workers: int = 1):
    """Run ``runs`` seeds of ``algorithm`` on ``problem`` for ``steps`` outer iterations; return a Trace.

    x0, y0: (d,) or (R, d) starts (default: the problem's; torch tensors, numpy arrays or lists, finite).
    run_ids: which run ids of the seed's streams to run (default 0..runs-1); run r's noise depends on
    (seed, r) only (its trajectory agrees with a lone run up to floating-point round-off).
    seed: an int in [0, 2^64); numpy integers are accepted for runs, steps, seed and record_every.
    progress: None shows a bar when the run is expected to take more than AUTO_PROGRESS_SECONDS.
    every_step_summary: also aggregate ground-truth quantities over every iteration (slower).
    workers: processes sharing out the runs (CPU problems; algorithms.shards): the same trace up to
    round-off, sooner when there are many runs and idle cores.
    """
    from ubo.algorithms.trace import Trace

    steps, record_every, runs = as_number(steps), as_number(record_every), as_number(runs)
    check_int("steps", steps, 0)
    check_int("record_every", record_every, 1)
    seed = check_seed("seed", seed)
    if progress not in (None, True, False):
        raise ValueError(f"progress must be None (auto), True or False, got {progress!r}")
    if every_step_summary and not problem.has_ground_truth:
        raise ValueError("every_step_summary needs a problem with ground truth (has_ground_truth=True)")
    if run_ids is None:
        check_int("runs", runs, 1)
    workers = check_workers(workers, problem)
    planned = runs if run_ids is None else torch.as_tensor(run_ids).numel()
    check_memory(planned, steps, record_every, problem.dim_x, problem.dim_y, problem.device)
    oracle = problem.oracle(runs=runs, seed=seed, run_ids=run_ids)
    R = oracle.runs
    x0 = _start("x0", problem.x0 if x0 is None else x0, problem, R, problem.dim_x)
    y0 = _start("y0", problem.y0 if y0 is None else y0, problem, R, problem.dim_y)
    x0 = x0.expand(R, -1).clone() if x0.dim() == 1 else x0
    y0 = y0.expand(R, -1).clone() if y0.dim() == 1 else y0
    if x0.shape != (R, problem.dim_x) or y0.shape != (R, problem.dim_y):
        raise ValueError(f"x0, y0 must have shapes ({problem.dim_x},) / ({R}, {problem.dim_x}) and "
                         f"({problem.dim_y},) / ({R}, {problem.dim_y}); got {tuple(x0.shape)}, {tuple(y0.shape)}")
    if workers > 1:
        return run_sharded(algorithm, problem, oracle.run_ids, workers, x0, y0, progress, steps=steps, seed=seed,
                           record_every=record_every, every_step_summary=every_step_summary)

    start = time.perf_counter()
    recorder = _Recorder(problem, oracle, steps, record_every)
    summary = _Summary(R, steps, problem.device) if every_step_summary else None
    diverged_at = torch.full((R,), -1, dtype=torch.int64, device=problem.device)
    alive = torch.ones(R, dtype=torch.bool, device=problem.device)

    progress_bars = _Progress(progress, steps, algorithm.name)
    init_bar = progress_bars.init_bar(oracle)
    try:
        state = algorithm.init(oracle, x0, y0)
    finally:
        oracle.on_call = None
        init_bar.close()
    bad = ~state.finite_rows()
    any_dead = bool(bad.any())
    if any_dead:
        diverged_at[bad] = 0
        alive &= ~bad
        oracle.active &= alive
    recorder.record(state, None)

    progress_bars.start()
    for t in range(1, steps + 1):
        prev = state
        if summary is not None:
            summary.before_step(problem, state)
        state = algorithm.step(oracle, state)
        finite = state.finite_rows()
        if not bool(finite.all()):  # one reduction on the common path; frozen runs may fail again, so mask
            bad = alive & ~finite
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
        progress_bars.step(t)
    progress_bars.close()
    if summary is not None and steps > 0:
        summary.errors(problem, state)

    constants = getattr(problem, "constants", None)
    meta = {
        "algorithm": algorithm.name, "hyper": _hyper_used(algorithm, problem), "problem": problem.name,
        "problem_params": dict(getattr(problem, "params", {})),
        "constants": constants.as_dict() if constants is not None else None,
        "runs": R, "run_ids": oracle.run_ids.tolist(), "steps": steps, "seed": seed,
        "record_every": record_every, "wall_time": time.perf_counter() - start,
    }
    return Trace(step=recorder.step, series=recorder.series, diverged=diverged_at >= 0, diverged_at=diverged_at,
                 meta=meta, summary=summary.result(state.z is not None) if summary is not None else {})
