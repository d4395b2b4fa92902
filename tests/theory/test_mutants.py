"""The planted-bug catalogue (theory.mutants): the quick job catches every mutant.

The correct code passing every judged row of the quick job is asserted by
test_validate.py::test_validate_quick_end_to_end (one shared correct run). By default this file runs one
representative mutant per category on the quick plan, on one target method each (a few seconds each on 2
cores); the whole catalogue on every target (quick), and the estimator and constants mutants in the default
plan, run under ``pytest -m slow``.
"""

import math

import pytest
import torch

from ubo import algorithms
from ubo.synthetic import make_problem
from ubo.theory import mutants, probes
from ubo.theory.recording import record_steps
from ubo.theory.validate import QUICK, failed_rows, run_checks, tuned_hyper

REPRESENTATIVE = {  # mutant -> (the one target method run here, the probe that must catch it)
    "jacobian_dropped": ("slip", "P11"),
    "z_sign": ("soba", "P12"),
    "adam_no_sqrt": ("adambo", "P12"),
    "lower_at_x0": ("slip", "P12"),
    "noise_biased": ("slip", "P13"),
    "L1_halved": ("slip", "P8"),
}
DEFAULT_CAUGHT = ("estimator", "constants")


def _quick(mutant, names=None):
    return run_checks(names=names or mutant.targets, runs=QUICK["runs"], steps=QUICK["steps"], plan=QUICK,
                      rates=False, mutant=mutant)["verdict"]


def test_catalogue_is_complete():
    names = [m.name for m in mutants.CATALOGUE]
    assert len(names) >= 15 and len(set(names)) == len(names)
    assert {m.category for m in mutants.CATALOGUE} == {"estimator", "update rule", "lower level", "oracle",
                                                         "constants"}
    with pytest.raises(ValueError, match="mutant must be one of"):
        mutants.get("nope")


@pytest.mark.parametrize("name", sorted(REPRESENTATIVE))
def test_quick_job_catches_representative_mutant(name):
    method, probe = REPRESENTATIVE[name]
    verdict = _quick(mutants.get(name), (method,))
    failed = failed_rows(verdict)
    assert probe in set(failed["probe"]), verdict[verdict["holds"].notna()]


def test_a_method_that_does_not_move_gets_rows_not_a_traceback():
    verdict = _quick(mutants.get("upper_frozen"))
    assert len(failed_rows(verdict))
    p8 = verdict[(verdict["probe"] == "P8") & (verdict["quantity"] == "max secant / (C2) ceiling")]
    assert p8["kind"].tolist() == ["inconclusive"] and math.isnan(p8["measured"].iloc[0])


def test_mutants_are_wrappers_with_the_original_hyperparameters():
    prob = make_problem("steep")
    algo = algorithms.make("slip", **tuned_hyper("slip", prob.constants, 300))
    for name in ("jacobian_dropped", "step_along_h", "lower_at_x0"):
        wrapped = mutants.get(name).wrap_algorithm(algo)
        assert wrapped.name == "slip" and wrapped.hyper() == algo.hyper() and type(wrapped) is not type(algo)
    swapped = mutants.get("momentum_convention").wrap_algorithm(algo)
    assert swapped.hyper() == algo.hyper()  # the bug hides behind the declared beta


def test_probes_refuse_a_problem_that_does_not_match():
    prob = make_problem("steep")
    algo = algorithms.make("slip", **tuned_hyper("slip", prob.constants, 300))
    rec = record_steps(algo, prob, 2, 5)
    with pytest.raises(ValueError, match="dim_x"):
        probes.step_probes(make_problem("steep", dim_x=5), rec)
    with pytest.raises(ValueError, match="constant mu"):
        probes.step_probes(make_problem("steep", mu=0.25), rec)
    with pytest.raises(ValueError, match="name"):
        probes.step_probes(make_problem("coupled"), rec)
    trace = algorithms.run(algo, prob, runs=2, steps=5, every_step_summary=True)
    with pytest.raises(ValueError, match="constant"):
        probes.trace_probes(trace, make_problem("steep", c=0.3))


def test_steep_instance_exercises_l1():
    """On the default problem the Hessian at x0 is far above the certified L0 (L1 matters)."""
    from ubo.theory.phi_smoothness import certified_phi_constants

    prob = make_problem("steep")
    L0, L1 = certified_phi_constants(prob.constants)
    h0 = float(probes.hessian_norms(prob, prob.x0[None]))
    g0 = float(prob.grad_phi(prob.x0[None]).norm())
    assert h0 > 10 * L0 and h0 <= L0 + L1 * g0
    assert torch.allclose(prob.x0.norm(), torch.tensor(4.0, dtype=torch.float64))


@pytest.mark.slow
@pytest.mark.parametrize("name", [m.name for m in mutants.CATALOGUE])
def test_quick_job_catches_every_mutant(name):
    assert len(failed_rows(_quick(mutants.get(name)))), name


@pytest.mark.slow
@pytest.mark.parametrize("name", [m.name for m in mutants.CATALOGUE if m.category in DEFAULT_CAUGHT])
def test_default_job_catches_estimator_and_constants_mutants(name):
    from ubo.theory.validate import FULL

    m = mutants.get(name)
    verdict = run_checks(names=m.targets, runs=FULL["runs"], steps=FULL["steps"], plan=FULL, rates=False,
                         mutant=m)["verdict"]
    assert len(failed_rows(verdict)), name
