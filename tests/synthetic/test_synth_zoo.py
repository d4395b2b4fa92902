"""Zoo: closed forms vs autograd, certificates at generated points, exact frontiers, negative controls."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from synth_checks import autograd_grad, joint_hessian
from ubo.synthetic import zoo
from ubo.synthetic.strategies import functions, vectors


def points_for(fn, data, runs=4):
    """Points in the function's domain, bounded so that cosh(L1 t) and t^p stay moderate."""
    bound = 2.5
    if fn.certified is not None and fn.certified[1] > 0:
        bound = min(bound, 6.0 / (fn.certified[1] * fn.dim**0.5))
    x = data.draw(vectors(fn.dim, runs, bound))
    return torch.cat((x, fn.critical_points(bound)))


@given(functions(names=tuple(zoo.list_functions())), st.data())
def test_closed_forms_equal_autograd(fn, data):
    x = points_for(fn, data)
    if fn.name == "inverse":
        x = x.abs() + 0.5
    if fn.name == "radial_cosh":
        x = torch.cat((x[x.norm(dim=1) > 1e-6], torch.ones(1, fn.dim)))  # autograd of the norm fails at 0
    torch.testing.assert_close(fn.grad(x), autograd_grad(fn.value, x), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(fn.hessian(x), joint_hessian(fn.value, x), rtol=1e-8, atol=1e-8)


@given(functions(), st.data())
def test_certificate_holds_at_generated_points(fn, data):
    x = points_for(fn, data)
    h, g = fn.norms(x)
    L0, L1 = fn.certified
    assert bool((h <= (L0 + L1 * g) * (1 + 1e-10) + 1e-12).all())


def test_radial_cosh_at_origin_is_a_identity():
    fn = zoo.make_function("radial_cosh", dim=3, a=2.0, b=0.5)
    assert torch.allclose(fn.hessian(torch.zeros(1, 3)), 2.0 * torch.eye(3)[None])
    assert torch.equal(fn.grad(torch.zeros(1, 3)), torch.zeros(1, 3))


@pytest.mark.parametrize("L1, expected", [(0.5, 17.02), (1.0, 5.08), (2.0, 2.28), (3.0, 2.0), (10.0, 2.0)])
def test_double_well_frontier_matches_dense_grid(L1, expected):
    exact = zoo.double_well_frontier(L1)
    t = torch.linspace(-6, 6, 1_200_001, dtype=torch.float64)
    grid = float(((3 * t * t - 1).abs() - L1 * (t**3 - t).abs()).max())
    assert grid <= exact + 1e-12 and exact - grid < 1e-6
    assert abs(exact - expected) < 0.01


@pytest.mark.parametrize("p, L1, expected", [(4, 0.5, 64.0), (4, 1.0, 16.0), (4, 2.0, 4.0), (4, 4.0, 1.0),
                                             (6, 2.0, 96.0), (2, 1.0, 2.0)])
def test_power_frontier_is_exact_and_found_by_search(p, L1, expected):
    fn = zoo.make_function("power", dim=3, p=p, L1=L1)
    assert fn.certified == (pytest.approx(expected), L1)
    found = zoo.search_frontier(fn, L1, scale=2 * (p - 2) / L1 + 1, samples=500)
    assert expected * (1 - 1e-9) - 1e-12 <= found <= expected * (1 + 1e-9)


@pytest.mark.parametrize("name", ["cosh", "double_well", "radial_cosh", "logistic", "logsumexp"])
def test_searched_frontier_stays_below_certificate(name):
    fn = zoo.make_function(name)
    L0, L1 = fn.certified
    for scale in (1.0, 4.0, 8.0):
        assert zoo.search_frontier(fn, L1, scale, samples=500) <= L0 * (1 + 1e-10) + 1e-12


@pytest.mark.parametrize("name", ["x2y2", "exp_square", "inverse"])
def test_negative_controls_have_unbounded_frontiers(name):
    """For every slope L1 tried, the frontier grows without bound with the box: no (L0, L1) exists.
    (For exp(t^2) at slope L1 = 10 the growth starts once |t| > 4.9, where 4t^2 + 2 > 2 L1 |t|.)"""
    fn = zoo.make_function(name)
    assert fn.negative_control and fn.certified is None
    for L1 in (1.0, 10.0):
        growth = zoo.frontier_growth(fn, L1, (1, 2, 4, 8), samples=500)
        assert growth[-1] == max(growth) and growth[-1] > 20 * max(growth[0], 1.0)
        assert growth[-1] > 1.5 * growth[-2]


def test_inverse_satisfies_its_rho_certificate():
    fn = zoo.make_function("inverse", dim=3)
    x = torch.rand(200, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 5 + 1e-3
    h, g = fn.norms(x)
    rho, L0, L_rho = fn.rho_certified
    assert bool((h <= (L0 + L_rho * g**rho) * (1 + 1e-10)).all())


def test_frontier_helper():
    h, g = torch.tensor([1.0, 5.0, 3.0]), torch.tensor([0.0, 4.0, 1.0])
    assert float(zoo.frontier(h, g, 0.0)) == 5.0
    assert zoo.frontier(h, g, torch.tensor([0.0, 1.0, 2.0])).tolist() == [5.0, 2.0, 1.0]
    with pytest.raises(ValueError, match="L1"):
        zoo.frontier(h, g, -1.0)
    with pytest.raises(ValueError, match="hess_norms"):
        zoo.frontier(h, g[:2], 1.0)


@pytest.mark.parametrize("name, kwargs, param", [("nope", {}, "function name"), ("power", {"p": 3}, "p"),
                                                 ("power", {"L1": 0.0}, "L1"), ("cosh", {"dim": 0}, "dim"),
                                                 ("double_well", {"L1": -1.0}, "L1"),
                                                 ("radial_cosh", {"a": 0.0}, "a"), ("cosh", {"beta": 1}, "beta")])
def test_invalid_zoo_parameters(name, kwargs, param):
    with pytest.raises(ValueError, match=param):
        zoo.make_function(name, **kwargs)


def test_list_functions_names_every_function():
    assert set(zoo.list_functions()) == {"cosh", "power", "double_well", "radial_cosh", "logistic", "logsumexp",
                                         "x2y2", "exp_square", "inverse"}
