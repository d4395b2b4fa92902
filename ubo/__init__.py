"""ubo: stochastic bilevel optimization under unbounded smoothness, checked against its theory.

Subpackages (each folder of the repository installs as one of them)::

    ubo.synthetic   problems with certified constants: make_problem, list_problems, strategies
    ubo.algorithms  BO-REP, SLIP, AdamBO and baselines: make, list_algorithms, run -> Trace
    ubo.theory      Phi's (L0, L1) lemma, parameter choices, bounds, probes, ``ubo validate``
    ubo.tasks       realistic RNN text tasks: make_task, list_tasks
    ubo.sweeps      cached, resumable sweeps over grids and seeds (``ubo sweep``), local or on Ray

The everyday entry points are attributes of ``ubo`` itself (imported on first use, so ``import ubo``
stays cheap): ``ubo.make_problem``, ``ubo.list_problems``, ``ubo.make`` (an algorithm),
``ubo.list_algorithms``, ``ubo.run``, ``ubo.Trace``, ``ubo.make_task``, ``ubo.list_tasks``.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_SUBPACKAGES = ("algorithms", "synthetic", "theory", "tasks", "sweeps")
_ENTRY_POINTS = {
    "make_problem": "ubo.synthetic",
    "list_problems": "ubo.synthetic",
    "make": "ubo.algorithms",
    "list_algorithms": "ubo.algorithms",
    "run": "ubo.algorithms",
    "Trace": "ubo.algorithms",
    "make_task": "ubo.tasks",
    "list_tasks": "ubo.tasks",
}

__all__ = ["__version__", *_SUBPACKAGES, *_ENTRY_POINTS]


def __getattr__(name: str):
    """Import a subpackage or an entry point on first access (PEP 562)."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"ubo.{name}")
    if name in _ENTRY_POINTS:
        return getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    raise AttributeError(f"module 'ubo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
