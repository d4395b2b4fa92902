"""Algorithms by name: ``make(name, **hyper)`` and ``list_algorithms()``."""

from __future__ import annotations

_REGISTRY: dict = {}


def register(cls, summary: str):
    """Add an Algorithm subclass under its ``name`` with a one-line summary."""
    _REGISTRY[cls.name] = (cls, summary)
    return cls


def get(name: str):
    """The Algorithm class registered under ``name``."""
    if name not in _REGISTRY:
        raise ValueError(f"algorithm name must be one of {sorted(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name][0]


def make(name: str, **hyper):
    """Build a registered algorithm; unknown names or hyperparameters raise ValueError."""
    cls = get(name)
    try:
        return cls(**hyper)
    except TypeError as err:  # unexpected keyword
        raise ValueError(f"bad hyperparameter for algorithm {name!r}: {err}") from None


def list_algorithms() -> dict[str, str]:
    """{name: one-line summary} of every registered algorithm."""
    return {name: summary for name, (_, summary) in sorted(_REGISTRY.items())}
