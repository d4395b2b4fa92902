"""Noise laws: unbiased, bounded law of norm exactly sigma, E||xi||^2 = sigma^2, batch independence."""

import math

import pytest
import torch

from ubo.synthetic.noise import NoiseLaw
from ubo.synthetic.rng import CounterRNG

N = 40_000  # runs, one noise vector each


def sample(law: NoiseLaw, dims=(4,), seed=0, run_ids=None):
    ids = torch.arange(N) if run_ids is None else run_ids
    return law.sample(CounterRNG(seed, ids).next(), dims, sub=20)


@pytest.mark.parametrize("law, nu", [("bounded", 4.0), ("gaussian", 4.0), ("student_t", 8.0), ("student_t", 3.0)])
def test_noise_is_unbiased(law, nu):
    """Each coordinate has variance sigma^2/d, so the mean of N draws has standard error sigma/sqrt(d N)."""
    sigma, d = 2.0, 4
    (xi,) = sample(NoiseLaw(law, sigma, nu), (d,))
    stderr = sigma / math.sqrt(d * N)
    assert float(xi.mean(dim=0).abs().max()) < 5 * stderr


def test_bounded_law_has_norm_exactly_sigma_per_part():
    xs, ys = sample(NoiseLaw("bounded", 1.5), (3, 5))
    assert torch.allclose(xs.norm(dim=1), torch.full((N,), 1.5), rtol=1e-14, atol=0)
    assert torch.allclose(ys.norm(dim=1), torch.full((N,), 1.5), rtol=1e-14, atol=0)


@pytest.mark.parametrize("law, nu, tol", [("gaussian", 4.0, 0.02), ("student_t", 10.0, 0.04)])
def test_second_moment_is_sigma_squared(law, nu, tol):
    """E||xi||^2 = sigma^2: Gaussian ||xi||^2/sigma^2 ~ chi2_d/d (stderr 0.0035 here); Student-t with nu = 10
    has a finite fourth moment (stderr about 0.006 here)."""
    sigma = 0.7
    (xi,) = sample(NoiseLaw(law, sigma, nu), (4,))
    ratio = float((xi * xi).sum(dim=1).mean()) / sigma**2
    assert abs(ratio - 1) < tol


def test_student_t_is_heavier_tailed_than_gaussian():
    (g,) = sample(NoiseLaw("gaussian", 1.0), (1,))
    (t,) = sample(NoiseLaw("student_t", 1.0, 3.0), (1,))
    assert float(t.abs().max()) > 2 * float(g.abs().max())


def test_none_and_zero_sigma_give_zeros():
    for law in (NoiseLaw("none"), NoiseLaw("gaussian", 0.0)):
        parts = sample(law, (2, 3))
        assert all(bool((p == 0).all()) for p in parts) and [p.shape[1] for p in parts] == [2, 3]


def test_scale_multiplies_rows():
    draw = CounterRNG(0, torch.arange(3)).next()
    law = NoiseLaw("bounded", 1.0)
    (xi,) = law.sample(draw, (4,), 20, scale=torch.tensor([0.0, 1.0, 3.0]))
    assert torch.allclose(xi.norm(dim=1), torch.tensor([0.0, 1.0, 3.0]), rtol=1e-14)


@pytest.mark.parametrize("law", ["bounded", "gaussian", "student_t"])
def test_noise_of_run_is_independent_of_batch_bit_for_bit(law):
    ids = torch.tensor([2, 40, 7, 1000])
    noise = NoiseLaw(law, 1.3, 2.5)
    batched = noise.sample(CounterRNG(9, ids).next(), (3, 6), 30)
    for pos, rid in enumerate(ids.tolist()):
        alone = noise.sample(CounterRNG(9, torch.tensor([rid])).next(), (3, 6), 30)
        assert all(torch.equal(b[pos], a[0]) for b, a in zip(batched, alone))


@pytest.mark.parametrize("kwargs, name", [({"law": "cauchy"}, "noise law"),
                                          ({"law": "gaussian", "sigma": -1.0}, "sigma"),
                                          ({"law": "gaussian", "sigma": math.inf}, "sigma"),
                                          ({"law": "student_t", "sigma": 1.0, "nu": 2.0}, "nu")])
def test_invalid_noise_raises_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        NoiseLaw(**kwargs)
