"""Shared construction steps of the tasks: seeded splits, vocabulary, pools, presets, argument checks."""

from __future__ import annotations

import numpy as np
import torch

from ubo.tasks.base import Pool
from ubo.tasks.data import Vocabulary

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def shuffled(items: list, seed: int, limit: int | None = None) -> list:
    """A seeded permutation of items, cut to ``limit`` when given."""
    order = np.random.default_rng([seed, 91]).permutation(len(items))
    items = [items[i] for i in order]
    return items if limit is None else items[:limit]


def split(items: list, fractions: tuple[float, ...]) -> list[list]:
    """Consecutive parts of items with the given fractions (the last part takes the rest)."""
    cuts, parts, start = np.cumsum(fractions)[:-1], [], 0
    for c in cuts:
        stop = int(round(c * len(items)))
        parts.append(items[start:stop])
        start = stop
    parts.append(items[start:])
    return parts


def encode(vocab: Vocabulary, items: list[tuple[str, int]], max_len: int, device, cls: bool = False) -> Pool:
    tokens, lengths = vocab.encode([t for t, _ in items], max_len, cls=cls)
    labels = torch.tensor([int(lab) for _, lab in items], dtype=torch.int64)
    return Pool(tokens, lengths, labels).to(device)


def resolve(name: str, size: str, presets: dict, params: dict) -> dict:
    """Preset of ``size`` updated by params; unknown keys or sizes raise ValueError."""
    if size not in presets:
        raise ValueError(f"size must be one of {sorted(presets)}, got {size!r}")
    unknown = set(params) - set(presets[size])
    if unknown:
        raise ValueError(f"task {name!r} has no parameter(s) {sorted(unknown)}; allowed: {sorted(presets[size])}")
    return {**presets[size], **params}


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def check_float(name: str, value, low: float, high: float, low_open: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        raise ValueError(f"{name} must be a number in {'(' if low_open else '['}{low}, {high}], got {value!r}")
    return float(value)


DATA = ("grammar", "real")
ENCODERS = ("rnn", "lstm")
POOLINGS = ("max", "mean")


def check_params(p: dict, choices: dict, ints: tuple) -> None:
    """Validate a task's parameters: each ``choices`` key in its allowed tuple, each ``ints`` key a
    positive int, ``seed`` an int >= 0; ValueError names the parameter."""
    for key, allowed in choices.items():
        check_choice(key, p[key], allowed)
    for key in ints:
        check_int(key, p[key])
    check_int("seed", p["seed"], 0)


def dtype_of(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {dtype!r}")


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))
