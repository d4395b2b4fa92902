"""Minibatches drawn from a counter-based ``Draw``: run r's batch depends on (seed, r, call) only.

A pool is split into strata (e.g. (domain, label) or class). A *task* picks one group of strata
uniformly (a domain: its two label strata; a 2-way few-shot task: a pair of classes) and draws
``shots`` examples with replacement from each stratum of the group. A batch is ``tasks`` such
tasks, weighted uniformly. Its expectation is the weighted pool loss with the weights
``exact_weights`` returns, which is what the exact f and g of a task use: the stochastic oracles
are unbiased for the exact quantities by construction.
"""

from __future__ import annotations

import torch

from ubo.synthetic.rng import Draw


class StratifiedSampler:
    def __init__(self, strata: torch.Tensor, groups: torch.Tensor, tasks: int, shots: int):
        strata = torch.as_tensor(strata, dtype=torch.int64)
        groups = torch.as_tensor(groups, dtype=torch.int64)
        if groups.dim() != 2:
            raise ValueError(f"groups must be a (G, s) tensor of stratum ids, got shape {tuple(groups.shape)}")
        counts = torch.bincount(strata, minlength=int(groups.max()) + 1)
        if bool((counts[groups] == 0).any()):
            raise ValueError("every stratum named in groups must hold at least one example")
        for name, value in (("tasks", tasks), ("shots", shots)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.order = torch.argsort(strata, stable=True)
        self.counts, self.offsets = counts, torch.cumsum(counts, 0) - counts
        self.strata, self.groups, self.tasks, self.shots = strata, groups, tasks, shots
        self._cache: dict = {}

    @property
    def batch_size(self) -> int:
        return self.tasks * self.groups.shape[1] * self.shots

    def _tables(self, device) -> tuple[torch.Tensor, ...]:
        """(order, counts, offsets, groups) on ``device`` (copied once, so sampling never syncs a GPU)."""
        key = str(device)
        if key not in self._cache:
            self._cache[key] = tuple(t.to(device) for t in (self.order, self.counts, self.offsets, self.groups))
        return self._cache[key]

    def sample(self, draw: Draw, sub: int) -> torch.Tensor:
        """(R, batch_size) pool indices; uses sub-streams ``sub`` and ``sub + 1`` of the draw."""
        order, counts, offsets, groups = self._tables(draw.keys.device)
        group = draw.integers(groups.shape[0], self.tasks, sub)                      # (R, tasks)
        strata = groups[group]                                                       # (R, tasks, s)
        u = draw.uniform(self.batch_size, sub + 1).double().view(*strata.shape, self.shots)
        count = counts[strata].unsqueeze(-1)
        pos = torch.minimum((u * count).long(), count - 1)
        idx = order[offsets[strata].unsqueeze(-1) + pos]
        return idx.reshape(idx.shape[0], -1)

    def exact_weights(self) -> torch.Tensor:
        """(N,) weights summing to 1: the expectation of one batch's uniform average."""
        G, s = self.groups.shape
        share = torch.zeros_like(self.counts, dtype=torch.float64)
        share.index_add_(0, self.groups.reshape(-1), torch.full((G * s,), 1.0 / (G * s), dtype=torch.float64))
        return share[self.strata] / self.counts[self.strata]


def uniform_sampler(n: int, batch: int) -> StratifiedSampler:
    """Plain minibatches of ``batch`` examples drawn uniformly with replacement from n."""
    return StratifiedSampler(torch.zeros(n, dtype=torch.int64), torch.zeros(1, 1, dtype=torch.int64), 1, batch)
