"""Claim 3 end to end on a tiny sweep: the real SLIP and BO-REP reproduce the lemmas' two-term shapes; a
SLIP and a BO-REP whose lower level is frozen (planted bugs, subclasses here) do not."""

from dataclasses import dataclass

import pytest

from dataclasses import replace

from ubo.algorithms import BOREP, SLIP, State
from ubo.theory.claims import tracking
from ubo.theory.claims.result import NOT_REPRODUCED, REPRODUCED

TINY = {"track_runs": 8, "track_steps": 200, "tail_eps": 1.0, "gammas": (0.05, 0.1, 0.2, 0.4), "periods": (1, 8, 32),
        "lower_steps": (1, 4, 16), "n_period": 8}


@dataclass(frozen=True)
class FrozenLowerSLIP(SLIP):
    """Planted bug: y is never updated after the warm start."""

    def step(self, oracle, s):
        new = super().step(oracle, s)
        return State(x=new.x, y=s.y, z=new.z, m=new.m, h=new.h, t=new.t)


@dataclass(frozen=True)
class FrozenLowerBOREP(BOREP):
    """Planted bug: the periodic refresh never moves y."""

    def step(self, oracle, s):
        return replace(super().step(oracle, s), y=s.y)


def _verdict(result, subject):
    return result.verdicts.set_index("subject").loc[subject, "verdict"]


def test_tracking_claim_reproduced_for_slip_and_borep_and_ceiling_respected():
    result = tracking.claim_tracking(TINY, progress=False)
    assert _verdict(result, "slip") == REPRODUCED and _verdict(result, "borep") == REPRODUCED
    assert set(result.table[result.table.method == "borep"].sweep) == {"I", "N"}
    slip = result.table[result.table.method == "slip"]
    assert (slip.max_over_ceiling <= 1).all()


@pytest.mark.slow
def test_tracking_claim_catches_a_frozen_lower_level_in_slip_and_borep(monkeypatch):
    real = tracking.make_method

    def planted(name, problem, eps, **override):
        algo = real(name, problem, eps, **override)
        return {"slip": FrozenLowerSLIP, "borep": FrozenLowerBOREP}[name](**algo.hyper())

    monkeypatch.setattr(tracking, "make_method", planted)
    result = tracking.claim_tracking(TINY, progress=False)
    assert _verdict(result, "slip") == NOT_REPRODUCED and _verdict(result, "borep") == NOT_REPRODUCED
