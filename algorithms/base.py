"""The Algorithm base class: a frozen dataclass of hyperparameters with ``init`` and ``step``.

    algo = SLIP(eta=1e-2, ...)                      # validated on construction
    algo = SLIP.from_theory(constants, eps, delta)  # the paper's parameter choices (theory/parameters.py)
    state = algo.init(oracle, x0, y0)               # (R, d) starts; warm starts happen here (counted)
    state = algo.step(oracle, state)                # one outer iteration

Subclasses declare ``name`` and one rule per field: ``_reals`` {field: (low, high, low_open, high_open)},
``_ints`` {field: minimum}, ``_choices`` {field: allowed values}, ``_flags`` (booleans), ``_auto``
{field: (keyword, real rule)}: a number under the rule, or the keyword for a value the problem supplies
when the run starts (``z_radius = "paper"``: l_f0 / mu; ``neumann_scale = "problem"``: l_g1). ``__post_init__`` validates every field, stores
numbers as plain Python ``float`` / ``int`` (NumPy and 0-d torch scalars are accepted), and raises
ValueError naming the field and its allowed range; a field without a rule is a programming error
(TypeError), so no hyperparameter goes unchecked. ``help(SLIP)`` etc. show the method's module
docstring: its algorithm box, references and a "Hyperparameters:" list with one line per field.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import asdict, dataclass, fields, replace
from typing import ClassVar

from ubo.algorithms.state import State
from ubo.synthetic.problem import as_number


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf,
               low_open: bool = False, high_open: bool = True) -> float:
    """A real number in [low, high] (open ends on request; high = inf with a closed end admits +inf)."""
    value = as_number(value)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")
    return float(value)


def check_int(name: str, value, low: int = 0) -> int:
    """An int >= low (NumPy integer scalars accepted)."""
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def check_auto(name: str, value, keyword: str, rule: tuple) -> float | str:
    """``keyword`` (a value the problem supplies when a run starts) or a number under ``rule``."""
    if isinstance(value, str) and value == keyword:
        return value
    try:
        return check_real(name, value, *rule)
    except ValueError as err:
        raise ValueError(f"{name} must be {keyword!r} or {str(err).split(' must be ')[1]}") from None


def check_choice(name: str, value, allowed: tuple) -> object:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


POSITIVE = (0.0, math.inf, True, True)      # (0, inf), finite
NONNEG = (0.0, math.inf, False, True)       # [0, inf), finite
RADIUS = (0.0, math.inf, True, False)       # (0, inf]: inf switches a projection off
UNIT_LEFT_OPEN = (0.0, 1.0, True, False)    # (0, 1]
UNIT_RIGHT_OPEN = (0.0, 1.0, False, True)   # [0, 1)


@dataclass(frozen=True)
class Algorithm:
    """Base: subclasses are frozen dataclasses with plain hyperparameter fields."""

    name: ClassVar[str] = "algorithm"
    _reals: ClassVar[dict] = {}     # field -> (low, high, low_open, high_open)
    _ints: ClassVar[dict] = {}      # field -> minimum
    _choices: ClassVar[dict] = {}   # field -> allowed values
    _flags: ClassVar[tuple] = ()    # boolean fields
    _auto: ClassVar[dict] = {}      # field -> (keyword, real rule): the keyword defers to the problem

    def __init_subclass__(cls, **kwargs):
        """help(cls) shows the method's module docstring (algorithm box, references, hyperparameters)."""
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__doc__") is None:
            cls.__doc__ = sys.modules[cls.__module__].__doc__

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._reals:
                object.__setattr__(self, f.name, check_real(f.name, value, *self._reals[f.name]))
            elif f.name in self._ints:
                object.__setattr__(self, f.name, check_int(f.name, value, self._ints[f.name]))
            elif f.name in self._auto:
                object.__setattr__(self, f.name, check_auto(f.name, value, *self._auto[f.name]))
            elif f.name in self._choices:
                check_choice(f.name, value, self._choices[f.name])
            elif f.name in self._flags:
                if not isinstance(value, bool):
                    raise ValueError(f"{f.name} must be True or False, got {value!r}")
            else:  # every field must be declared: no unchecked hyperparameter
                raise TypeError(f"{type(self).__name__}.{f.name} has no validation rule")

    def hyper(self) -> dict:
        """The hyperparameters as a plain dict."""
        return asdict(self)

    def resolved(self, problem) -> "Algorithm":
        """A copy with every problem-supplied value (``"paper"``, ``"problem"``) replaced by the number a run
        on ``problem`` uses (e.g. to record or compare hyperparameters)."""
        from ubo.algorithms.hypergradient import resolve_neumann_scale, resolve_z_radius

        resolvers = {"paper": resolve_z_radius, "problem": resolve_neumann_scale}
        updates = {name: resolvers[keyword](getattr(self, name), problem)
                   for name, (keyword, _) in self._auto.items()}
        return replace(self, **updates)

    @classmethod
    def from_theory(cls, source, eps: float, delta: float = 0.1, **options) -> "Algorithm":
        """The paper's parameter choice (theory/parameters.py ``plan``) for a problem or its Constants.

        Warns (UserWarning) when the run the theory asks for exceeds ``BUDGET_WARNING`` oracle calls per run;
        ``theory.parameters.plan`` returns the horizon and the budget with the hyperparameters.
        """
        from ubo.theory import parameters as tp

        if cls.name not in tp.METHODS:
            raise NotImplementedError(f"{cls.__name__} has no theory-driven parameter choice")
        p = tp.plan(cls.name, source, eps, delta, **options)
        if p["budget"] > tp.BUDGET_WARNING:
            warnings.warn(f"{cls.__name__}.from_theory(eps={eps}): the theory's horizon T = {p['horizon']:.3g} "
                          f"needs {p['budget']:.3g} oracle calls per run (warm start {p['warm_calls']:.3g}), beyond "
                          f"{tp.BUDGET_WARNING:.0e}", stacklevel=2)
        return cls(**p["hyper"])

    def init(self, oracle, x0, y0) -> State:
        raise NotImplementedError

    def step(self, oracle, state: State) -> State:
        raise NotImplementedError
