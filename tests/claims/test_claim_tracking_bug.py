"""Claim 3 end to end on a tiny sweep: the real SLIP reproduces the two-term tracking shape; a SLIP whose
lower level is frozen (a planted bug, in a subclass here) does not."""

from dataclasses import dataclass

import pytest

from ubo.algorithms import SLIP, State
from ubo.theory.claims import tracking
from ubo.theory.claims.result import NOT_REPRODUCED, REPRODUCED

TINY = {"track_runs": 8, "track_steps": 200, "tail_eps": 1.0, "gammas": (0.02, 0.06, 0.2, 0.4), "periods": (1, 8, 32)}


@dataclass(frozen=True)
class FrozenLowerSLIP(SLIP):
    """Planted bug: y is never updated after the warm start."""

    def step(self, oracle, s):
        new = super().step(oracle, s)
        return State(x=new.x, y=s.y, z=new.z, m=new.m, h=new.h, t=new.t)


def _verdict(result, subject):
    return result.verdicts.set_index("subject").loc[subject, "verdict"]


def test_tracking_claim_reproduced_for_slip_and_ceiling_respected():
    result = tracking.claim_tracking(TINY, progress=False)
    assert _verdict(result, "slip") == REPRODUCED
    slip = result.table[result.table.method == "slip"]
    assert (slip.max_over_ceiling <= 1).all()


@pytest.mark.slow
def test_tracking_claim_catches_a_frozen_lower_level(monkeypatch):
    real = tracking.make_method

    def planted(name, problem, eps, **override):
        algo = real(name, problem, eps, **override)
        return FrozenLowerSLIP(**algo.hyper()) if name == "slip" else algo

    monkeypatch.setattr(tracking, "make_method", planted)
    assert _verdict(tracking.claim_tracking(TINY, progress=False), "slip") == NOT_REPRODUCED
