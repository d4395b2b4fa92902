"""The iterate an algorithm carries between steps: batched (R, d) tensors plus a step counter.

    x (R, d_x), y (R, d_y)      upper / lower iterates (every method)
    z (R, d_y)                  linear-system variable (z-based methods), else None
    m (R, d_x)                  upper-level momentum / first Adam moment, else None
    h (R, d_x)                  the hypergradient estimate the method formed in its last step (the
                                direction before momentum, Adam or normalization); None after init
    aux {name: (R, ...)}        anything else a method needs (Adam's v, the previous
                                hypergradient, a lower-level average, ...)
    t                           outer iterations completed

Algorithms never modify a State in place: ``step`` returns a new one, so the runner can keep
the previous state (step lengths, freezing diverged runs) without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

Tensor = torch.Tensor


@dataclass
class State:
    x: Tensor
    y: Tensor
    z: Tensor | None = None
    m: Tensor | None = None
    h: Tensor | None = None
    aux: dict = field(default_factory=dict)
    t: int = 0

    def tensors(self) -> dict[str, Tensor]:
        """Every per-run tensor of the state, by name (aux entries as 'aux.name')."""
        out = {"x": self.x, "y": self.y}
        if self.z is not None:
            out["z"] = self.z
        if self.m is not None:
            out["m"] = self.m
        if self.h is not None:
            out["h"] = self.h
        out.update({f"aux.{k}": v for k, v in self.aux.items()})
        return out

    def finite_rows(self) -> Tensor:
        """(R,) bool: every entry of the run's state is finite (one sum over the run's entries of every tensor)."""
        rows = [value if value.dim() == 2 else value.reshape(value.shape[0], -1) for value in self.tensors().values()]
        return torch.isfinite(torch.cat(rows, dim=1).sum(dim=1))

    def where(self, keep_new: Tensor, old: "State") -> "State":
        """Row-wise merge: run r takes this state where keep_new[r], else ``old``'s."""
        def pick(new, prev):
            if new is None or prev is None:
                return new
            mask = keep_new.reshape(-1, *([1] * (new.dim() - 1)))
            return torch.where(mask, new, prev)
        return replace(
            self,
            x=pick(self.x, old.x),
            y=pick(self.y, old.y),
            z=pick(self.z, old.z),
            m=pick(self.m, old.m),
            h=pick(self.h, old.h),
            aux={k: pick(v, old.aux[k]) if k in old.aux else v for k, v in self.aux.items()},
        )
