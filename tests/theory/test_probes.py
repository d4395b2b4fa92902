"""Probes on real runs: correct algorithms pass; planted bugs are caught by the probe that should catch them."""

from dataclasses import dataclass, replace

import pytest
import torch

from ubo import algorithms
from ubo.algorithms.state import State
from ubo.synthetic import make_problem
from ubo.theory import probes
from ubo.theory.probes import COLUMNS
from ubo.theory.recording import record_steps


@pytest.fixture(scope="module")
def problem():
    return make_problem("coupled", dim_x=5, dim_y=4, noise="bounded", sigma_f=0.3, sigma_g1=0.3, sigma_g2=0.3)


def _slip_hyper(p):
    c = p.constants
    return dict(eta=0.008, beta=0.5, gamma=min(0.1, 1 / c.l_g1), nu=min(0.1, 1 / c.l_g1), warm_start=100,
                z_radius=c.l_f0 / c.mu)


@dataclass(frozen=True)
class LongStepSLIP(algorithms.SLIP):
    """Bug: the upper step is 1.5 eta long."""

    def step(self, oracle, s):
        new = super().step(oracle, s)
        return replace(new, x=s.x + 1.5 * (new.x - s.x))


@dataclass(frozen=True)
class UphillSLIP(algorithms.SLIP):
    """Bug: the normalized step goes up the momentum."""

    def step(self, oracle, s):
        new = super().step(oracle, s)
        return replace(new, x=2 * s.x - new.x)


@dataclass(frozen=True)
class StaleLowerSLIP(algorithms.SLIP):
    """Bug: the lower level keeps minimising g(x_0, .) instead of g(x_t, .)."""

    def init(self, oracle, x0, y0):
        s = super().init(oracle, x0, y0)
        return replace(s, aux={"x0": x0})

    def step(self, oracle, s):
        gx, gy = oracle.grad_f(s.x, s.y)
        hz, jz = oracle.hvp_jvp(s.x, s.y, s.z)
        m = self.beta * s.m + (1 - self.beta) * (gx - jz)
        x = s.x - self.eta * m / m.norm(dim=1, keepdim=True)
        y = s.y - self.gamma * oracle.grad_g(s.aux["x0"], s.y)
        z = s.z - self.nu * (hz - gy)
        return State(x=x, y=y, z=z, m=m, aux=s.aux, t=s.t + 1)


def _holds(frame, quantity_part):
    rows = frame[frame["quantity"].str.contains(quantity_part, regex=False)]
    assert len(rows) == 1, frame
    value = rows.iloc[0]["holds"]
    return None if value is None else bool(value)


def test_correct_slip_passes_every_step_probe(problem):
    rec = record_steps(algorithms.SLIP(**_slip_hyper(problem)), problem, runs=6, steps=120, seed=3)
    table = probes.step_probes(problem, rec)
    assert tuple(table.columns) == COLUMNS
    judged = table[table["holds"].notna()]
    assert set(judged["probe"]) >= {"P2", "P3", "P7", "P8"}  # P6 is algorithm-blind: reported, not judged
    assert judged["holds"].all(), judged


def test_correct_slip_passes_every_trace_probe(problem):
    algo = algorithms.SLIP(**_slip_hyper(problem))
    trace = algorithms.run(algo, problem, runs=64, steps=200, seed=0, record_every=10, every_step_summary=True)
    table = probes.trace_probes(trace, problem, bias_mean=0.3)
    judged = table[table["holds"].notna()]
    assert set(judged["probe"]) >= {"P4", "P5"}  # P10's ceiling is implied by P4: reported
    assert judged["holds"].all(), judged


def test_planted_long_step_is_caught_by_p3(problem):
    rec = record_steps(LongStepSLIP(**_slip_hyper(problem)), problem, runs=4, steps=20)
    assert _holds(probes.probe_step_drift(problem, rec), "|step - eta|") is False


def test_planted_uphill_step_is_caught_by_p2(problem):
    rec = record_steps(UphillSLIP(**_slip_hyper(problem)), problem, runs=4, steps=20)
    assert _holds(probes.probe_descent(problem, rec), "descent lhs") is False


def test_planted_stale_lower_level_is_caught_by_p4(problem):
    trace = algorithms.run(StaleLowerSLIP(**_slip_hyper(problem)), problem, runs=32, steps=300, seed=0,
                           record_every=10, every_step_summary=True)
    assert _holds(probes.probe_tracking(trace, problem), "a.s. ceiling") is False


def test_neumann_probe_passes_and_catches_the_dropped_q0_term(problem):
    c = problem.constants
    hyper = dict(neumann_scale=c.l_g1, neumann_terms=100)
    assert probes.neumann_row(problem, hyper)["holds"] is True
    assert probes.neumann_row(problem, {**hyper, "neumann_drop_q0": True})["holds"] is False


def test_understated_constants_are_caught_by_p8(problem):
    rec = record_steps(algorithms.SLIP(**_slip_hyper(problem)), problem, runs=4, steps=60)
    wrong = make_problem("coupled", dim_x=5, dim_y=4)
    wrong.constants = replace(wrong.constants, phi_L0=wrong.constants.phi_L0 / 20, phi_L1=0.05)
    table = probes.probe_smoothness(wrong, rec)
    assert _holds(table, "||Hess Phi||") is False
    assert _holds(probes.probe_smoothness(problem, rec), "||Hess Phi||") is True


def test_trace_probes_need_the_every_step_summary(problem):
    trace = algorithms.run(algorithms.SLIP(**_slip_hyper(problem)), problem, runs=4, steps=5)
    with pytest.raises(ValueError, match="every_step_summary"):
        probes.probe_stationarity(trace, problem)


def test_row_ratio_and_holds():
    r = probes.row("P0", "a", "q", 2.0, 4.0, "expectation")
    assert r["ratio"] == 0.5 and r["holds"] is True
    assert probes.row("P0", "a", "q", 1.0)["holds"] is None
    assert torch.isfinite(torch.tensor(probes.row("P0", "a", "q", 5.0, 4.0, "every realisation")["ratio"]))
