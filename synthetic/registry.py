"""Problems by name: ``make_problem(name, **params)``, ``list_problems()``, ``problem_parameters(name)``."""

from __future__ import annotations

import inspect
import typing
from typing import Callable

from ubo.synthetic.problem import BilevelProblem, as_number

_REGISTRY: dict[str, tuple[Callable[..., BilevelProblem], str]] = {}
_INTERNAL = ("self", "name")  # constructor arguments a user does not pass

_DOC = """Build a registered synthetic problem: ``make_problem(name, **params)``.

Unknown names or parameters raise ValueError listing the allowed ones; numpy scalars are accepted
wherever Python numbers are. ``repr(problem)`` is the call that rebuilds it.

L0 and L1 are the constants of the upper-level *landscape* U, not of Phi. The certified pair of
Phi itself is ``problem.constants.phi_L0``, ``problem.constants.phi_L1`` (None where a family does
not certify it); ``make_phi_problem(name, phi_L0, phi_L1, **params)`` builds an instance whose Phi
has a chosen pair (families coupled and decoupled).

Noise: ``noise`` is a law name ('none', 'bounded', 'gaussian', 'student_t') or {oracle kind: law};
its sizes are sigma_f (grad f), sigma_g1 (grad_y g), sigma_g2 (Hessian and Jacobian products).
A sigma without a law, or a law without any sigma, is an error (never silently exact).

Families and their parameters (defaults; ``help(type(problem))`` gives each family's math):
"""


def register(name: str, summary: str):
    """Decorator: add a problem factory under ``name`` with a one-line summary."""
    def wrap(factory):
        _REGISTRY[name] = (factory, summary)
        make_problem.__doc__ = _DOC + "".join(
            f"\n{n}: {s}\n    " + ", ".join(f"{k}={v!r}" for k, v in problem_parameters(n).items()) + "\n"
            for n, s in list_problems().items())
        return factory
    return wrap


def registered(name: str) -> bool:
    return name in _REGISTRY


def problem_parameters(name: str) -> dict:
    """{parameter: default} of a registered family (the keywords make_problem accepts)."""
    if name not in _REGISTRY:
        raise ValueError(f"problem name must be one of {sorted(_REGISTRY)}, got {name!r}")
    cls = typing.get_type_hints(_REGISTRY[name][0])["return"]
    out: dict = {}
    for klass in cls.__mro__:  # a subclass __init__ that forwards **params also accepts its parent's keywords
        if "__init__" not in vars(klass):
            continue
        signature = inspect.signature(klass.__init__).parameters
        for k, p in signature.items():
            if k not in _INTERNAL and k not in out and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                out[k] = p.default
        if not any(p.kind is p.VAR_KEYWORD for p in signature.values()):
            break
    return out


def make_problem(name: str, **params) -> BilevelProblem:
    if name not in _REGISTRY:
        raise ValueError(f"problem name must be one of {sorted(_REGISTRY)}, got {name!r}")
    allowed = problem_parameters(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for problem {name!r}; allowed: {', '.join(allowed)}")
    factory, _ = _REGISTRY[name]
    return factory(**{k: as_number(v) for k, v in params.items()})


make_problem.__doc__ = _DOC


def list_problems() -> dict[str, str]:
    """{name: one-line summary} of every registered problem."""
    return {name: summary for name, (_, summary) in sorted(_REGISTRY.items())}
