"""Invalid parameters raise ValueError naming the parameter and the allowed range."""

import pytest

from ubo.synthetic import list_problems, make_problem

COMMON = [({"dim_x": 0}, "dim_x"), ({"dim_y": -2}, "dim_y"), ({"dim_x": 2.5}, "dim_x"),
          ({"noise": "cauchy"}, "noise"), ({"noise": {"grad_h": "gaussian"}}, "noise"),
          ({"noise": "gaussian", "sigma_f": -0.1}, "sigma_f"), ({"sigma_g1": -1.0}, "sigma_g1"),
          ({"noise": "student_t", "sigma_g2": 1.0, "nu": 1.5}, "nu"), ({"instance_seed": -1}, "instance_seed"),
          ({"not_a_knob": 1}, "not_a_knob")]
SPECIFIC = {
    "coupled": [({"mu": 0.0}, "mu"), ({"mu": 1.0, "L_g": 0.5}, "L_g"), ({"L1": -1.0}, "L1")],
    "decoupled": [({"mu": -1.0}, "mu"), ({"coupling": 0.3}, "coupling")],
    "quadratic": [({"mu": 0.0}, "mu"), ({"mu": 1.0, "L_g": 0.5}, "L_g"), ({"n": 3}, "n"),
                  ({"ridge": 1.0}, "ridge"), ({"batch_size": 0}, "batch_size"), ({"f_mu": 0.0}, "f_mu"),
                  ({"f_mu": 1.0, "L_f": 0.1}, "L_f"), ({"radius": -1.0}, "radius")],
    "curvature": [({"mu0": 0.0}, "mu0"), ({"lam": -1.0}, "lam"), ({"n_val": 0}, "n_val"),
                  ({"batch_size": -1}, "batch_size"), ({"L0": 0.0}, "L0")],
}
CASES = [(name, kwargs, param) for name in sorted(SPECIFIC) for kwargs, param in COMMON + SPECIFIC[name]]


@pytest.mark.parametrize("name, kwargs, param", CASES)
def test_invalid_parameter_raises_naming_it(name, kwargs, param):
    small = {"dim_x": 2, "dim_y": 2}
    with pytest.raises(ValueError, match=param):
        make_problem(name, **{**small, **kwargs})


def test_range_is_stated():
    with pytest.raises(ValueError, match=r"mu must be a number in \(0"):
        make_problem("quadratic", mu=0.0)
    with pytest.raises(ValueError, match=r"L_g must be a number in \[1.0"):
        make_problem("quadratic", mu=1.0, L_g=0.5)


def test_unknown_problem_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="problem name must be one of .*quadratic"):
        make_problem("cubic")


def test_registry_lists_every_family():
    assert {"coupled", "decoupled", "quadratic", "curvature"} <= set(list_problems())
