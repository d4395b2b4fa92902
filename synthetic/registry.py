"""Problems by name: ``make_problem(name, **params)`` and ``list_problems()``."""

from __future__ import annotations

from typing import Callable

from ubo.synthetic.problem import BilevelProblem

_REGISTRY: dict[str, tuple[Callable[..., BilevelProblem], str]] = {}


def register(name: str, summary: str):
    """Decorator: add a problem factory under ``name`` with a one-line summary."""
    def wrap(factory):
        _REGISTRY[name] = (factory, summary)
        return factory
    return wrap


def make_problem(name: str, **params) -> BilevelProblem:
    """Build a registered problem; unknown names or parameters raise ValueError."""
    if name not in _REGISTRY:
        raise ValueError(f"problem name must be one of {sorted(_REGISTRY)}, got {name!r}")
    factory, _ = _REGISTRY[name]
    try:
        return factory(**params)
    except TypeError as err:  # unexpected keyword
        raise ValueError(f"bad parameter for problem {name!r}: {err}") from None


def list_problems() -> dict[str, str]:
    """{name: one-line summary} of every registered problem."""
    return {name: summary for name, (_, summary) in sorted(_REGISTRY.items())}
