"""Claim 1 end to end on a small ladder: calls_to_hit counts exactly what the stationarity average says,
the real SLIP shows a slope near -4 with nothing censored, and a SLIP that forgets to normalize its step
(x <- x - eta m: a planted bug, a subclass put in through a wrapper of the schedule) is not "reproduced".
(Switching the momentum off is no bug for this claim: with eta ~ eps^3, normalized SGD also reaches eps
at the eps^-4 rate.)"""

from dataclasses import dataclass

import numpy as np
import pytest

from ubo import algorithms
from ubo.algorithms import SLIP, State
from ubo.theory.claims import complexity
from ubo.theory.claims.hitting import calls_to_hit
from ubo.theory.claims.instances import complexity_instance
from ubo.theory.claims.result import REPRODUCED
from ubo.theory.claims.schedules import make_method

LADDER = {"eps_ladder": (0.2, 0.15, 0.11), "hit_runs": 8, "hit_max_steps": {"default": 400}}


def test_calls_to_hit_matches_the_running_average_of_a_full_trace():
    problem = complexity_instance()
    algo = make_method("slip", problem, 0.11)
    hits = calls_to_hit(algo, problem, runs=4, eps=0.11, max_steps=400, seed=3)
    trace = algorithms.run(algo, problem, runs=4, steps=int(np.max(hits.steps)), seed=3, record_every=1, progress=False)
    g = trace.series["grad_phi_norm"].numpy()[1:]  # ||grad Phi(x_t)||, t = 1..T
    avg = np.cumsum(g, axis=0) / np.arange(1, len(g) + 1)[:, None]
    first = np.argmax(avg <= 0.11, axis=0)
    assert np.array_equal(hits.steps, first + 1.0)
    assert np.array_equal(hits.calls, trace.series["oracle_calls"].numpy()[first + 1, np.arange(4)])


def test_calls_to_hit_censors_what_never_hits_and_rejects_bad_eps():
    problem = complexity_instance()
    hits = calls_to_hit(make_method("slip", problem, 0.08), problem, runs=3, eps=1e-3, max_steps=20)
    assert hits.censored == 3 and hits.steps_run == 20 and np.isinf(hits.calls).all()
    with pytest.raises(ValueError, match="eps must be > 0"):
        calls_to_hit(make_method("slip", problem, 0.08), problem, runs=1, eps=0.0, max_steps=5)


@dataclass(frozen=True)
class UnnormalizedSLIP(SLIP):
    """Planted bug: the upper step is eta m_t, not eta m_t / ||m_t||."""

    def step(self, oracle, s):
        new = super().step(oracle, s)
        x = s.x + (new.x - s.x) * new.m.norm(dim=1, keepdim=True)
        return State(x=x, y=new.y, z=new.z, m=new.m, h=new.h, t=new.t)


def _slip(result):
    return result.verdicts.set_index("subject").loc["slip"]


def test_real_slip_slope_is_near_minus_4_and_an_unnormalized_step_is_not_reproduced(monkeypatch):
    real = complexity.claim_complexity(LADDER, methods=("slip",), progress=False)
    slope = real.plot["slopes"].set_index("noise").loc["noisy", "slope"]
    assert -4.6 < slope < -3.4 and (real.table.censored == 0).all()

    honest = complexity.make_method

    def unnormalized(name, problem, eps, **override):
        return UnnormalizedSLIP(**honest(name, problem, eps, **override).hyper())

    monkeypatch.setattr(complexity, "make_method", unnormalized)
    broken = complexity.claim_complexity(LADDER, methods=("slip",), progress=False)
    assert _slip(broken)["verdict"] != REPRODUCED


def test_two_processes_give_the_same_table_as_one_and_start_the_dearest_batch_first():
    one = complexity.claim_complexity(LADDER, methods=("slip", "adambo"), progress=False)
    two = complexity.claim_complexity(LADDER, methods=("slip", "adambo"), progress=False, jobs=2)
    assert one.table.equals(two.table)
    tasks = [(m, label, eps) for m in ("slip", "adambo") for label in ("noisy", "noise-free") for eps in (0.2, 0.11)]
    problems = {"noisy": complexity_instance(), "noise-free": complexity_instance(noise="none", sigma=0.0)}
    order = complexity.dearest_first(tasks, problems)
    assert order[0] == ("adambo", "noisy", 0.11)   # the smallest eps of the method with Q Neumann terms a step
    assert order[-1][2] == 0.2
