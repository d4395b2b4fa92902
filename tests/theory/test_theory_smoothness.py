"""Phi's smoothness lemma, secant smoothness and the frontier, against closed forms and autograd."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from ubo.synthetic import make_problem
from ubo.synthetic.constants import Constants
from ubo.theory.phi_smoothness import certified_phi_constants, looseness, phi_smoothness
from ubo.theory.probes import hessian_norms
from ubo.theory.smoothness import frontier, secant_ceiling, secant_smoothness


def test_lemma_constants_by_hand():
    c = Constants(L_x0=2.0, L_x1=1.0, L_y0=3.0, L_y1=0.5, l_f0=1.5, mu=0.5, l_g1=2.0, l_g2=0.4)
    k = 4.0
    lemma = phi_smoothness(c)
    root = math.sqrt(1 + k * k)
    assert lemma.L1 == pytest.approx(root * 1.0)
    assert lemma.L0 == pytest.approx(root * (2.0 + k * 1.5 + k * (3.0 + 0.5 * 1.5) + 1.5 * 0.4 * (2.0 + 2.0 / 0.25)))
    assert lemma.radius == pytest.approx(1 / (math.sqrt(2 * 1.25) * root))
    flat = replace(c, L_x1=0.0, L_y1=0.0)
    assert phi_smoothness(flat).radius == math.inf and phi_smoothness(flat).L1 == 0.0
    assert math.isnan(looseness(c)["L0_ratio"])
    assert certified_phi_constants(c) == (lemma.L0, lemma.L1)


@pytest.mark.parametrize("family", ["coupled", "decoupled"])
def test_certified_and_lemma_constants_bound_the_hessian(family):
    p = make_problem(family, dim_x=5, dim_y=4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 5, generator=gen) * 2.0
    H = hessian_norms(p, x).numpy()
    G = p.grad_phi(x).norm(dim=1).numpy()
    for L0, L1 in (certified_phi_constants(p.constants), (phi_smoothness(p.constants).L0, phi_smoothness(p.constants).L1)):
        assert np.all(H <= L0 + L1 * G)
    assert looseness(p.constants)["L1_ratio"] >= 1.0  # the lemma pays sqrt(1 + kappa^2) (theory-probes 1.4)


def test_hessian_norm_matches_closed_form():
    p = make_problem("decoupled", dim_x=4, dim_y=3, alpha=0.0)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    w = x @ p.M.T - p.t
    D = torch.diag_embed(1 - torch.tanh(w) ** 2)
    H = p.U.hessian(x) + p.c * p.M.T @ D @ p.M
    assert hessian_norms(p, x).numpy() == pytest.approx(torch.linalg.matrix_norm(H, ord=2).numpy())


def test_secant_smoothness_of_a_quadratic_is_its_curvature_along_the_step():
    A = torch.diag(torch.tensor([1.0, 4.0]))
    x0 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    x1 = x0 + torch.tensor([[0.5, 0.0], [0.0, 0.5]])
    sec = secant_smoothness(lambda x: x @ A, x0, x1)
    assert sec.numpy() == pytest.approx([1.0, 4.0])


def test_secant_ratio_never_exceeds_the_c2_ceiling_on_cosh():
    gen = torch.Generator().manual_seed(2)
    x0 = torch.randn(2000, 3, generator=gen) * 3
    x1 = x0 + torch.randn(2000, 3, generator=gen) * 0.5
    sec = secant_smoothness(torch.sinh, x0, x1, points=8).numpy()
    ceiling = secant_ceiling(1.0, 1.0, torch.sinh(x0).norm(dim=1).numpy(), (x1 - x0).norm(dim=1).numpy())
    assert np.all(sec <= ceiling * (1 + 1e-12))


def test_frontier_of_quartic_is_16_over_L1_squared():
    t = np.linspace(-6, 6, 200_001)
    for L1 in (0.5, 1.0, 2.0):
        assert frontier(12 * t**2, np.abs(4 * t**3), L1)[0] == pytest.approx(16 / L1**2, rel=1e-6)


def test_frontier_input_checks():
    with pytest.raises(ValueError, match="same size"):
        frontier([1.0, 2.0], [1.0], 1.0)
