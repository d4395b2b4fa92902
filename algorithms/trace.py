"""The record of a batched run: per recorded step and run, every series of the runner contract.

    step         LongTensor (K,): recorded iterations 0 (after init), k, 2k, ..., T
    series       {name: Tensor (K, R) float64}
    summary      {name: Tensor (R,)} aggregates over every iteration (optional)
    diverged     (R,) bool;  diverged_at (R,) long, -1 when the run stayed finite
    meta         dict (algorithm, hyper, problem, problem_params, constants, runs, steps, seed, ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import torch


@dataclass
class Trace:
    step: torch.Tensor
    series: dict
    diverged: torch.Tensor
    diverged_at: torch.Tensor
    meta: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return int(self.diverged.shape[0])

    def final(self, name: str) -> torch.Tensor:
        """The last recorded value of a series, (R,)."""
        return self.series[name][-1]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per (recorded step, run) with the algorithm's name, every series and the
        divergence flag (frames of several algorithms concatenate with ``pd.concat``)."""
        K, R = len(self.step), self.runs
        columns = {
            "algorithm": [self.meta.get("algorithm")] * (K * R),
            "step": self.step.cpu().repeat_interleave(R).numpy(),
            "run": torch.arange(R).repeat(K).numpy(),
        }
        for name, values in self.series.items():
            columns[name] = values.cpu().reshape(-1).numpy()
        columns["diverged"] = self.diverged.cpu().repeat(K).numpy()
        return pd.DataFrame(columns)

    def save(self, path) -> None:
        torch.save({"step": self.step, "series": self.series, "summary": self.summary,
                    "diverged": self.diverged, "diverged_at": self.diverged_at, "meta": self.meta}, path)

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a file written by ``save``; a file that is not a complete trace raises ValueError naming it."""
        try:
            data = torch.load(path, weights_only=True)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except Exception as err:  # torch raises many types on corrupt input (pickle, zip, unicode, EOF)
            raise ValueError(f"{str(path)!r} is not a readable ubo trace file: truncated, corrupt or not written by "
                             f"Trace.save (torch.load raised {type(err).__name__})") from None
        _check_saved(path, data)
        return cls(step=data["step"], series=data["series"], diverged=data["diverged"],
                   diverged_at=data["diverged_at"], meta=data["meta"], summary=data["summary"])

    def equals(self, other: "Trace") -> bool:
        """Bitwise equality of every tensor (NaN == NaN) and of the metadata except wall time."""
        strip = lambda meta: {k: v for k, v in meta.items() if k != "wall_time"}  # noqa: E731
        return (_same(self.step, other.step) and _same_dict(self.series, other.series)
                and _same_dict(self.summary, other.summary) and _same(self.diverged, other.diverged)
                and _same(self.diverged_at, other.diverged_at) and strip(self.meta) == strip(other.meta))


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return torch.equal(torch.isnan(a), torch.isnan(b)) and torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))
    return torch.equal(a, b)


def _same_dict(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


_SAVED = ("step", "series", "summary", "diverged", "diverged_at", "meta")


def _check_saved(path, data) -> None:
    """The structure ``save`` writes: the six keys, series of shape (K, R), flags of shape (R,)."""
    def bad(why: str):
        raise ValueError(f"{str(path)!r} is not a ubo trace file: {why}")

    if not isinstance(data, dict):
        bad(f"it holds a {type(data).__name__}, not a dict")
    missing = [k for k in _SAVED if k not in data]
    if missing:
        bad(f"missing {missing}")
    step, diverged = data["step"], data["diverged"]
    if not (isinstance(step, torch.Tensor) and step.dim() == 1 and isinstance(diverged, torch.Tensor)
            and diverged.dim() == 1 and isinstance(data["series"], dict) and isinstance(data["meta"], dict)):
        bad("step, diverged must be 1-d tensors and series, meta dicts")
    shape = (step.shape[0], diverged.shape[0])
    for name, values in data["series"].items():
        if not isinstance(values, torch.Tensor) or tuple(values.shape) != shape:
            bad(f"series {name!r} has shape {tuple(getattr(values, 'shape', ()))}, expected {shape}")
