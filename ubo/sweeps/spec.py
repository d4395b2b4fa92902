"""A sweep spec (TOML file or Python object) and its expansion into cells.

    cells = problems x noises x algorithms (x their grids) x seeds

A spec names problems (``name`` and ``params``), optional noise settings merged into every problem's
parameters, algorithms (``name`` with ``hyper``, or ``theory`` = the keywords of ``from_theory``
applied to the problem's certified constants), ``seeds``, ``runs``, ``steps``, ``record_every`` and
``probes``. In ``params``, ``hyper``, ``theory`` and each noise table a list is a grid axis (write
``[[a, b]]`` for one list-valued setting); the grid is the Cartesian product of the axes.

One cell = one batched run: all ``runs`` seeds of one configuration in one tensor program
(``ubo.algorithms.run``). A cell is keyed by the SHA-256 of its canonical JSON configuration and
the ubo version, so a cell computed once is found again whatever the spec it came from.

Example (examples/sweep_slip_noise.toml)::

    name = "slip-noise"
    runs = 16
    steps = 100
    record_every = 10
    seeds = [0]
    probes = ["stationarity", "tracking"]

    [[problems]]
    name = "coupled"
    params = { dim_x = 5, dim_y = 5, L1 = [1.0, 4.0] }

    [[noises]]
    noise = ["bounded", "student_t"]
    sigma_f = 0.1
    sigma_g1 = 0.1
    sigma_g2 = 0.1

    [[algorithms]]
    name = "slip"
    hyper = { eta = [0.003, 0.01], beta = 0.9, gamma = 0.1, nu = 0.1 }

    [[algorithms]]
    name = "soba"
    hyper = { alpha = 0.003, gamma = 0.1, nu = 0.1 }
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PROBES = ("stationarity", "tracking", "z", "tails")
_TOP_KEYS = {"name", "runs", "steps", "record_every", "seeds", "probes", "problems", "noises", "algorithms"}


def grid(table: dict) -> list[dict]:
    """Cartesian product of a table whose list values are axes: {a: [1, 2], b: 3} -> [{a: 1, b: 3}, {a: 2, b: 3}]."""
    keys = sorted(table)
    axes = [table[k] if isinstance(table[k], list) else [table[k]] for k in keys]
    for k, axis in zip(keys, axes):
        if not axis:
            raise ValueError(f"grid axis {k!r} is an empty list; give at least one value")
    return [dict(zip(keys, values)) for values in itertools.product(*axes)]


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _check_entries(name: str, entries, allowed: set[str], required: str | None = "name") -> tuple:
    if not isinstance(entries, (list, tuple)):
        raise ValueError(f"{name} must be a list of tables, got {type(entries).__name__}")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"each entry of {name} must be a table (dict), got {entry!r}")
        unknown = set(entry) - allowed
        if unknown:
            raise ValueError(f"{name} entry has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        if required and not isinstance(entry.get(required), str):
            raise ValueError(f"each entry of {name} needs a string {required!r}, got {entry!r}")
    return tuple(dict(e) for e in entries)


def _canonical(value):
    """JSON-ready copy with finite floats kept exact (repr) and non-finite ones spelled out."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    return value


def cell_key(config: dict, version: str) -> str:
    """SHA-256 (first 20 hex digits) of the canonical configuration and the ubo version."""
    text = json.dumps({"config": _canonical(config), "ubo": version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _check_names(problems, algorithms) -> None:
    from ubo.algorithms import list_algorithms
    from ubo.synthetic import list_problems

    for p in problems:
        if p["name"] not in list_problems():
            from ubo.tasks import list_tasks  # imported only when a task is named (it loads the text data)

            known = sorted(list_problems()) + sorted(list_tasks())
            if p["name"] not in known:
                raise ValueError(f"problem name must be one of {known}, got {p['name']!r}")
    for a in algorithms:
        if a["name"] not in list_algorithms():
            raise ValueError(f"algorithm name must be one of {sorted(list_algorithms())}, got {a['name']!r}")


@dataclass(frozen=True)
class Cell:
    """One batched run: its full configuration and its content key."""

    key: str
    config: dict = field(hash=False, compare=False)

    @property
    def label(self) -> str:
        c = self.config
        settings = {**c["problem"]["params"], **c["algorithm"].get("hyper", {}), **c["algorithm"].get("theory", {})}
        text = ",".join(f"{k}={v}" for k, v in sorted(settings.items()))
        return f"{c['algorithm']['name']}@{c['problem']['name']}[{text}] seed={c['seed']}"


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: problem, noise and algorithm grids, seeds, and what each batched run records."""

    name: str
    problems: tuple
    algorithms: tuple
    noises: tuple = ({},)
    seeds: tuple = (0,)
    runs: int = 16
    steps: int = 100
    record_every: int = 1
    probes: tuple = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "problems", _check_entries("problems", self.problems, {"name", "params"}))
        object.__setattr__(self, "algorithms",
                           _check_entries("algorithms", self.algorithms, {"name", "hyper", "theory"}))
        noises = _check_entries("noises", self.noises or ({},), {"noise", "sigma_f", "sigma_g1", "sigma_g2", "nu"},
                                required=None)
        object.__setattr__(self, "noises", noises)
        if not self.problems or not self.algorithms:
            raise ValueError("a sweep needs at least one entry in problems and in algorithms")
        _check_names(self.problems, self.algorithms)
        for a in self.algorithms:
            if "hyper" in a and "theory" in a:
                raise ValueError(f"algorithm {a['name']!r}: give hyper or theory (from_theory keywords), not both")
            if "theory" in a and "eps" not in a["theory"]:
                raise ValueError(f"algorithm {a['name']!r}: theory needs eps (the target accuracy)")
        seeds = tuple(self.seeds) if isinstance(self.seeds, (list, tuple)) else (self.seeds,)
        if not seeds:
            raise ValueError("seeds must hold at least one seed")
        for s in seeds:
            _check_int("seeds", s, 0)
        object.__setattr__(self, "seeds", seeds)
        _check_int("runs", self.runs, 1)
        _check_int("steps", self.steps, 0)
        _check_int("record_every", self.record_every, 1)
        probes = tuple(self.probes)
        bad = [p for p in probes if p not in PROBES]
        if bad:
            raise ValueError(f"probes must be among {PROBES}, got {bad}")
        object.__setattr__(self, "probes", probes)

    @classmethod
    def from_dict(cls, data: dict) -> "SweepSpec":
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ValueError(f"sweep spec has unknown keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
        if "name" not in data:
            raise ValueError("sweep spec needs a name")
        return cls(**data)

    @classmethod
    def from_toml(cls, path) -> "SweepSpec":
        with open(path, "rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"spec {path}: not valid TOML: {err}") from None
        data.setdefault("name", Path(path).stem)
        return cls.from_dict(data)

    def cells(self, version: str | None = None) -> list[Cell]:
        """Every cell of the grid, in a fixed order, each with its content key."""
        if version is None:
            from ubo import __version__ as version
        cells = []
        for problem, noise, algo, seed in itertools.product(self.problems, self.noises, self.algorithms, self.seeds):
            for params in grid({**problem.get("params", {}), **noise}):
                settings = "theory" if "theory" in algo else "hyper"
                for values in grid(algo.get(settings, {})):
                    config = {"problem": {"name": problem["name"], "params": params},
                              "algorithm": {"name": algo["name"], settings: values},
                              "seed": seed, "runs": self.runs, "steps": self.steps,
                              "record_every": self.record_every, "probes": list(self.probes)}
                    cells.append(Cell(cell_key(config, version), config))
        keys = [c.key for c in cells]
        if len(set(keys)) != len(keys):
            raise ValueError("the spec lists the same cell twice (duplicate grid values)")
        return cells
