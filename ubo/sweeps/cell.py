"""Compute one cell: build its problem and algorithm, run all its seeds as one batch, apply its probes.

    trace = ubo.algorithms.run(algo, problem, runs=R, steps=T, seed=s, record_every=k,
                               every_step_summary=bool(probes))

A cell whose construction or run raises is a *failed* cell (its error is stored, the sweep goes on);
a cell with diverged runs is *done*, with the diverged runs flagged per run in its frame; a probe that
raises leaves the cell done with its trace and the probe's error (verdict "error").
"""

from __future__ import annotations

import traceback

import pandas as pd


def build_problem(name: str, params: dict):
    """A synthetic problem (``make_problem``) or, for a task's name, a realistic task (``make_task``)."""
    from ubo.synthetic import list_problems, make_problem

    if name in list_problems():
        return make_problem(name, **params)
    from ubo.tasks import list_tasks, make_task

    if name in list_tasks():
        return make_task(name, **params)
    raise ValueError(f"problem name must be a synthetic problem {sorted(list_problems())} "
                     f"or a task {sorted(list_tasks())}, got {name!r}")


def build_algorithm(config: dict, problem):
    """``make(name, **hyper)``, or ``from_theory(problem.constants, **theory)`` for a theory-driven cell."""
    from ubo import algorithms

    if "theory" in config:
        constants = getattr(problem, "constants", None)
        if constants is None:
            raise ValueError(f"problem {problem.name!r} has no certified constants: theory-driven cells need them")
        return algorithms.get(config["name"]).from_theory(constants, **config["theory"])
    return algorithms.make(config["name"], **config.get("hyper", {}))


def apply_probes(names, trace, problem) -> pd.DataFrame:
    """The named trace probes of ``ubo.theory.probes`` as one table."""
    from ubo.theory import probes

    table = {"stationarity": probes.probe_stationarity, "tracking": probes.probe_tracking,
             "z": probes.probe_z, "tails": probes.probe_tails}
    return pd.concat([table[name](trace, problem) for name in names], ignore_index=True)


def compute(config: dict, progress: bool | None = False) -> dict:
    """Run one cell: {"status": "done", "trace", "probes"[, "probe_error"]} or {"status": "failed", "error", ...}."""
    from ubo import algorithms

    try:
        problem = build_problem(config["problem"]["name"], config["problem"]["params"])
        algo = build_algorithm(config["algorithm"], problem)
        trace = algorithms.run(algo, problem, runs=config["runs"], steps=config["steps"], seed=config["seed"],
                               record_every=config["record_every"], progress=progress,
                               every_step_summary=bool(config["probes"]))
    except Exception as err:  # noqa: BLE001 -- a failing cell is recorded, the sweep goes on
        return {"status": "failed", "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    outcome = {"status": "done", "trace": trace, "probes": None}
    if config["probes"]:
        try:
            outcome["probes"] = apply_probes(config["probes"], trace, problem)
        except Exception as err:  # noqa: BLE001 -- the run is kept; the probes' error is stored with it
            outcome["probe_error"] = f"{type(err).__name__}: {err}"
    return outcome
