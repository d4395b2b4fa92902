"""Counted, seeded stochastic oracles: the only view of a problem an algorithm gets.

One call = one fresh sample for every run. Calls the papers take on one sample are one fused
call (``hvp_jvp``). Calls are counted per kind and per run; a run marked inactive (diverged)
stops counting.

    kind     call                         returns
    grad_f   grad_f(x, y)                 (grad_x F, grad_y F)(x, y; xi)
    grad_g   grad_g(x, y)                 grad_y G(x, y; zeta)
    hvp      hvp(x, y, v)                 grad2_yy G(x, y; zeta) v
    jvp      jvp(x, y, v)                 grad2_xy G(x, y; zeta) v
    hvp+jvp  hvp_jvp(x, y, v)             both, from one zeta
"""

from __future__ import annotations

import torch

from ubo.synthetic.rng import CounterRNG

KINDS = ("grad_f", "grad_g", "hvp", "jvp")
_INDEX = {k: i for i, k in enumerate(KINDS)}


class Oracle:
    def __init__(self, problem, runs: int = 1, seed: int = 0, run_ids: torch.Tensor | None = None):
        if run_ids is None:
            if isinstance(runs, bool) or not isinstance(runs, int) or runs <= 0:
                raise ValueError(f"runs must be a positive int, got {runs!r}")
            run_ids = torch.arange(runs)
        else:
            run_ids = torch.as_tensor(run_ids, dtype=torch.int64).reshape(-1)
            if run_ids.numel() == 0 or bool((run_ids < 0).any()):
                raise ValueError(f"run_ids must be a non-empty list of ids >= 0, got {run_ids.tolist()}")
        self.problem = problem
        self.runs = int(run_ids.numel())
        self.run_ids = run_ids.to(problem.device)
        self.rng = CounterRNG(seed, self.run_ids, problem.dtype)
        # stored kind-major so that counting one kind touches one contiguous row
        self._by_kind = torch.zeros(len(KINDS), self.runs, dtype=torch.int64, device=problem.device)
        self._rows = self._by_kind.unbind(0)  # one view per kind, made once
        self.active = torch.ones(self.runs, dtype=torch.bool, device=problem.device)

    def _count(self, *kinds: str) -> None:
        for kind in kinds:
            self._rows[_INDEX[kind]].add_(self.active)

    def grad_f(self, x, y):
        self._count("grad_f")
        return self.problem.sample_grad_f(x, y, self.rng.next())

    def grad_g(self, x, y):
        self._count("grad_g")
        return self.problem.sample_grad_g(x, y, self.rng.next())

    def hvp(self, x, y, v):
        self._count("hvp")
        return self.problem.sample_hvp(x, y, v, self.rng.next())

    def jvp(self, x, y, v):
        self._count("jvp")
        return self.problem.sample_jvp(x, y, v, self.rng.next())

    def hvp_jvp(self, x, y, v):
        self._count("hvp", "jvp")
        return self.problem.sample_hvp_jvp(x, y, v, self.rng.next())

    @property
    def counts(self) -> torch.Tensor:
        """(R, 4) calls so far per run and kind, in the order of KINDS (a view)."""
        return self._by_kind.T

    def count_dict(self) -> dict[str, torch.Tensor]:
        """Calls so far per kind, each a (R,) int64 tensor."""
        return {k: self.counts[:, i].clone() for i, k in enumerate(KINDS)}

    @property
    def total_calls(self) -> torch.Tensor:
        return self.counts.sum(dim=1)
