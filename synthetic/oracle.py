"""Counted, seeded stochastic oracles: the only view of a problem an algorithm gets.

One call = one fresh sample for every run. Calls the papers take on one sample are one fused
call (``hvp_jvp``). Calls are counted per kind and per run; a run marked inactive (diverged)
stops counting.

    kind     call                         returns
    grad_f   grad_f(x, y)                 (grad_x F, grad_y F)(x, y; xi)
    grad_g   grad_g(x, y)                 grad_y G(x, y; zeta)
    grad_g   grad_g_xy(x, y)              (grad_x G, grad_y G)(x, y; zeta): one first-order call (F2SA)
    hvp      hvp(x, y, v)                 grad2_yy G(x, y; zeta) v
    jvp      jvp(x, y, v)                 grad2_xy G(x, y; zeta) v
    hvp+jvp  hvp_jvp(x, y, v)             both, from one zeta

Same sample at two points (STORM-type estimators, e.g. AccBO's recursive momentum)::

    with oracle.recording() as tape:        # the calls made here draw fresh samples, as usual,
        h = estimator(oracle, x, y)         # and the tape keeps (kind, Draw) of each
    with oracle.replaying(tape):            # the same calls, in the same order, get the same Draws:
        h_prev = estimator(oracle, x_prev, y_prev)   # the same samples xi, zeta at the other point

Each Draw also carries ``level_call``, its index among the calls on the same level's samples (upper:
grad_f; lower: every other call), so that a finite-sum family can walk through its per-level epochs as
benchopt does (synthetic.finite_sum, sampling="shuffle"); it is the same for every run.

Each replayed call is counted as a call of its kind: evaluating one sample at two points costs two
evaluations, as in the papers' accounting. A ``Draw`` is a pure function of (seed, run, call counter)
and ``sample_*`` a pure function of (point, draw) (synthetic.problem), so a replay is exact and cheap;
the generator's counter does not move during a replay, so the runs after it are unchanged. A replay
that asks for a different kind or more calls than the tape holds, or leaves calls unused, raises.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from ubo.synthetic.problem import as_number, check_seed
from ubo.synthetic.rng import CounterRNG

KINDS = ("grad_f", "grad_g", "hvp", "jvp")
_INDEX = {k: i for i, k in enumerate(KINDS)}
_UPPER_CALLS = ("grad_f",)  # calls on the upper-level samples xi; every other call samples zeta (lower level)


class Oracle:
    def __init__(self, problem, runs: int = 1, seed: int = 0, run_ids: torch.Tensor | None = None):
        seed, runs = check_seed("seed", seed), as_number(runs)
        if run_ids is None:
            if isinstance(runs, bool) or not isinstance(runs, int) or runs <= 0:
                raise ValueError(f"runs must be a positive int, got {runs!r}")
            run_ids = torch.arange(runs)
        else:
            run_ids = torch.as_tensor(run_ids, dtype=torch.int64).reshape(-1)
            if run_ids.numel() == 0 or bool((run_ids < 0).any()):
                raise ValueError(f"run_ids must be a non-empty list of ids >= 0, got {run_ids.tolist()}")
            if run_ids.unique().numel() != run_ids.numel():
                raise ValueError(f"run_ids must be distinct (a repeated id repeats its run), got {run_ids.tolist()}")
            if runs not in (1, run_ids.numel()):
                raise ValueError(f"runs={runs!r} contradicts run_ids ({run_ids.numel()} ids): give one of them")
        self.problem = problem
        self.runs = int(run_ids.numel())
        self.run_ids = run_ids.to(problem.device)
        self.rng = CounterRNG(seed, self.run_ids, problem.dtype)
        # Counting costs no tensor operation per call: calls made under the current ``active`` mask are
        # Python ints (_pending), folded into the per-run counts (_by_kind, kind-major) only when the mask
        # changes (seen through the tensor's version counter: in-place edits included) or counts are read.
        self._by_kind = torch.zeros(len(KINDS), self.runs, dtype=torch.int64, device=problem.device)
        self._pending = [0] * len(KINDS)
        self.active = torch.ones(self.runs, dtype=torch.bool, device=problem.device)
        self._mask = (self.active, self.active._version, self.active.to(torch.int64))
        self._level_calls = [0, 0]          # calls made so far on the lower / upper level (Draw.level_call)
        self._tape: list | None = None      # (call name, Draw) recorded inside ``recording``
        self._replay: list | None = None    # what ``replaying`` still has to hand out

    on_call = None  # optional callable run after every call (the runner's init progress bar)

    def _flush(self) -> None:
        """Fold the pending calls into the per-run counts under the mask they were made with; re-read the mask."""
        active, version, weights = self._mask
        if any(self._pending):
            pending = torch.tensor(self._pending, dtype=torch.int64, device=self._by_kind.device)
            self._by_kind += pending[:, None] * weights
            self._pending = [0] * len(KINDS)
        if active is not self.active or version != self.active._version:
            self._mask = (self.active, self.active._version, self.active.to(torch.int64))

    def _count(self, *kinds: str) -> None:
        active, version, _ = self._mask
        if active is not self.active or version != self.active._version:
            self._flush()
        for kind in kinds:
            self._pending[_INDEX[kind]] += 1
        if self.on_call is not None:
            self.on_call()

    def _draw(self, call: str):
        """The Draw of this call: the next fresh one, or the recorded one during a replay."""
        if self._replay is not None:
            if not self._replay:
                raise RuntimeError(f"replay asked for a {call} call beyond the recorded samples")
            recorded, draw = self._replay.pop(0)
            if recorded != call:
                raise RuntimeError(f"replay asked for a {call} call where the recording made a {recorded} call")
            return draw
        draw = self.rng.next()
        level = int(call in _UPPER_CALLS)
        draw.level_call = self._level_calls[level]
        self._level_calls[level] += 1
        if self._tape is not None:
            self._tape.append((call, draw))
        return draw

    @contextmanager
    def recording(self):
        """Record the samples of the calls made inside (fresh draws, counted as usual); yields the tape."""
        if self._tape is not None or self._replay is not None:
            raise RuntimeError("recording cannot be nested in another recording or replay")
        tape: list = []
        self._tape = tape
        try:
            yield tape
        finally:
            self._tape = None

    @contextmanager
    def replaying(self, tape: list):
        """Hand the recorded samples, in order, to the calls made inside (each counted as one call)."""
        if self._tape is not None or self._replay is not None:
            raise RuntimeError("replaying cannot be nested in another recording or replay")
        self._replay = list(tape)
        try:
            yield
            if self._replay:
                raise RuntimeError(f"replay left {len(self._replay)} recorded samples unused")
        finally:
            self._replay = None

    def grad_f(self, x, y):
        self._count("grad_f")
        return self.problem.sample_grad_f(x, y, self._draw("grad_f"))

    def grad_g(self, x, y):
        self._count("grad_g")
        return self.problem.sample_grad_g(x, y, self._draw("grad_g"))

    def grad_g_xy(self, x, y):
        self._count("grad_g")
        return self.problem.sample_grad_g_xy(x, y, self._draw("grad_g_xy"))

    def hvp(self, x, y, v):
        self._count("hvp")
        return self.problem.sample_hvp(x, y, v, self._draw("hvp"))

    def jvp(self, x, y, v):
        self._count("jvp")
        return self.problem.sample_jvp(x, y, v, self._draw("jvp"))

    def hvp_jvp(self, x, y, v):
        self._count("hvp", "jvp")
        return self.problem.sample_hvp_jvp(x, y, v, self._draw("hvp_jvp"))

    @property
    def counts(self) -> torch.Tensor:
        """(R, 4) calls so far per run and kind, in the order of KINDS (a view, current until the next call)."""
        self._flush()
        return self._by_kind.T

    def count_dict(self) -> dict[str, torch.Tensor]:
        """Calls so far per kind, each a (R,) int64 tensor."""
        return {k: self.counts[:, i].clone() for i, k in enumerate(KINDS)}

    @property
    def total_calls(self) -> torch.Tensor:
        return self.counts.sum(dim=1)
