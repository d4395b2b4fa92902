"""The fused numba generator against the torch definitions, and AS241 against SciPy's ndtri."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from ubo.synthetic import fused_rng, rng
from ubo.synthetic.rng import CounterRNG, Draw, run_keys

needs_numba = pytest.mark.skipif(not fused_rng.AVAILABLE, reason="numba is not installed")

# probabilities in (0, 1/2]: the bulk, both AS241 tail regimes, and the extremes the generator reaches
P = np.concatenate([np.linspace(1e-3, 0.5, 2001), np.geomspace(2.0**-54, 0.075, 2000), [2.0**-54, 0.075, 0.5]])


def max_relative_error(quantile) -> float:
    z, ref = quantile(P), ndtri(P)
    return float(np.max(np.abs(z - ref) / np.maximum(np.abs(ref), 1e-3)))


def torch_quantile(p):
    return rng.ppnd16(torch.from_numpy(p)).numpy()


def numba_quantile(p):
    return np.array([fused_rng.ppnd16(v) for v in p])


class PerturbedCoefficients:
    """A planted bug: one AS241 coefficient off in its 8th digit."""

    def __enter__(self):
        self.saved = fused_rng.C
        fused_rng.C = (self.saved[0] * (1 + 1e-8),) + self.saved[1:]

    def __exit__(self, *exc):
        fused_rng.C = self.saved


def test_as241_matches_scipy_ndtri_and_catches_a_wrong_coefficient():
    assert max_relative_error(torch_quantile) < 3e-15
    with PerturbedCoefficients():  # the torch path reads the coefficients at call time
        assert max_relative_error(torch_quantile) > 1e-9


@needs_numba
def test_numba_as241_matches_scipy_ndtri():
    assert max_relative_error(numba_quantile) < 3e-15


@pytest.fixture(params=["numba", "torch"])
def backend(request):
    if request.param == "numba" and not fused_rng.AVAILABLE:
        pytest.skip("numba is not installed")
    previous = rng.set_backend(request.param)
    yield request.param
    rng.set_backend(previous)


def both(draw_fn):
    """The same draw on the two backends."""
    previous = rng.set_backend("numba")
    try:
        fused = draw_fn()
        rng.set_backend("torch")
        plain = draw_fn()
    finally:
        rng.set_backend(previous)
    return fused, plain


@needs_numba
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**40), st.integers(0, 10**6), st.integers(0, 60), st.integers(1, 40))
def test_bits_and_uniforms_equal_across_backends(seed, call, sub, n):
    draw = Draw(run_keys(seed, torch.tensor([0, 1, 17, 2**40])), call, torch.float64)
    for method in ("bits", "uniform"):
        fused, plain = both(lambda: getattr(draw, method)(n, sub))
        assert torch.equal(fused, plain), method


@needs_numba
def test_normals_agree_across_backends_to_a_few_ulps():
    draw = CounterRNG(3, torch.arange(500)).next()
    fused, plain = both(lambda: draw.normal(400, 2))
    assert float((fused - plain).abs().max()) <= 8 * 2.2e-16 * 8.3
    assert float((fused == plain).double().mean()) > 0.99  # differences come from log in the tails only


@needs_numba
@pytest.mark.parametrize("mode", [fused_rng.BOUNDED, fused_rng.GAUSSIAN])
def test_fused_noise_shaping_equals_the_torch_shaping(mode):
    draw = CounterRNG(5, torch.arange(300)).next()
    scale = torch.linspace(0.5, 2.0, 300, dtype=torch.float64)
    fused, plain = both(lambda: draw.shaped_normal((3, 11, 6), 7, mode, 0.3, scale))
    torch.testing.assert_close(fused, plain, rtol=1e-14, atol=0)
    if mode == fused_rng.BOUNDED:
        norms = fused.split((3, 11, 6), dim=1)
        for part in norms:
            torch.testing.assert_close(part.norm(dim=1), 0.3 * scale, rtol=1e-14, atol=0)


def test_normals_are_exactly_symmetric_and_standard(backend):
    """k and 2^53 - 1 - k give opposite normals; 200k draws have mean 0, variance 1, N(0,1) quantiles."""
    k = torch.tensor([0, 1, 12345, 2**51, 2**52 - 1], dtype=torch.int64)
    bits = torch.cat([k, (2**53 - 1) - k]) << 11
    z = rng.normals_from_bits(bits, torch.float64)
    assert torch.equal(z[:5], -z[5:])
    assert float(z[0]) == pytest.approx(ndtri(2.0**-54), rel=1e-15)
    x = CounterRNG(9, torch.arange(400)).next().normal(500).reshape(-1).numpy()
    assert abs(x.mean()) < 5 / math.sqrt(x.size) and abs(x.var() - 1) < 5 * math.sqrt(2 / x.size)
    probs = np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    assert np.max(np.abs(np.mean(x[:, None] <= ndtri(probs)[None, :], axis=0) - probs)) < 0.005


def test_batched_equals_alone_on_each_backend(backend):
    batch, alone = CounterRNG(11, torch.tensor([0, 3, 5, 9])), CounterRNG(11, torch.tensor([5]))
    scale_batch = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)
    for _ in range(3):
        a, b = batch.next(), alone.next()
        assert torch.equal(a.normal(13, 4)[2], b.normal(13, 4)[0])
        assert torch.equal(a.shaped_normal((4, 9), 4, fused_rng.BOUNDED, 0.2, scale_batch)[2],
                           b.shaped_normal((4, 9), 4, fused_rng.BOUNDED, 0.2, scale_batch[2:3])[0])


def test_set_backend_rejects_unknown_names():
    with pytest.raises(ValueError, match="backend"):
        rng.set_backend("cuda")


@needs_numba
def test_a_noisy_run_is_the_same_on_both_backends():
    """SLIP on the noisy coupled family: the torch fallback gives the fused backend's iterates to round-off."""
    from ubo import algorithms
    from ubo.synthetic import make_problem

    problem = make_problem("coupled", dim_x=4, dim_y=3, noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.5)
    fused, plain = both(lambda: algorithms.run(algorithms.make("slip", eta=0.05), problem, runs=3, steps=30,
                                               record_every=10, progress=False))
    torch.testing.assert_close(fused.series["grad_phi_norm"], plain.series["grad_phi_norm"], rtol=1e-10, atol=0)
    assert not torch.equal(fused.series["grad_phi_norm"][1:, 0], fused.series["grad_phi_norm"][1:, 1])


@needs_numba
@pytest.mark.parametrize("size", [100, 5000])  # the branching loop below 256 elements, the compacted passes above
def test_tail_passes_give_ppnd16_bit_for_bit(size):
    """The tails of the fused kernel (compacted log / sqrt / rational passes, far tail by ppnd16) equal ppnd16
    element by element, signs included, down to the far tail (p < exp(-25), where the near formula is wrong)."""
    gen = np.random.default_rng(size)
    p = np.concatenate([[1e-300, 2.0**-54, 1e-12, 0.0749], gen.random(size - 4) * 0.5 + 2.0**-54])
    p = p * np.where(gen.random(size) < 0.5, 1.0, -1.0)  # the kernel's signed lower-tail probabilities
    flat = np.zeros(size)
    fused_rng._tails(p, flat)
    tail = np.abs(p) < 0.5 - fused_rng.SPLIT1
    expected = np.array([fused_rng.ppnd16(abs(v)) * (1.0 if v > 0 else -1.0) for v in p[tail]])
    assert np.array_equal(flat[tail].view(np.uint64), expected.view(np.uint64))
    assert not flat[~tail].any()  # the central elements are left to the central pass
    near = fused_rng._horner8(fused_rng.C, math.sqrt(-math.log(1e-300)) - fused_rng.CONST2) / fused_rng._horner8(
        fused_rng.D, math.sqrt(-math.log(1e-300)) - fused_rng.CONST2)
    assert abs(abs(flat[0]) - near) > 1e-9 * near  # planted: the near formula alone differs there (caught above)


def scalar_bounded_normals(keys, salt, dims, sigma, scale, reverse=False):
    """The definition element by element in Python floats: ppnd16 of (m + 1/2) / 2^53 from the hash's bits, then
    each part times scale_r sigma / sqrt(sum of its squares, summed j = 0, 1, ... or, planted, in reverse)."""
    bits = fused_rng.bits(keys, salt, sum(dims))
    out = np.empty(bits.shape)
    for r in range(bits.shape[0]):
        for j in range(bits.shape[1]):
            k = int(bits[r, j]) >> 11
            m = min(k, 2**53 - 1 - k)
            z = fused_rng.ppnd16(float(m) * 2.0**-53 + 2.0**-54)
            out[r, j] = z if k < 2**52 else -z
        lo = 0
        for d in dims:
            ss = 0.0
            for v in (out[r, lo:lo + d][::-1] if reverse else out[r, lo:lo + d]):
                ss += float(v) * float(v)
            factor = float(scale[r]) * sigma / math.sqrt(ss)
            out[r, lo:lo + d] *= factor
            lo += d
    return out


@needs_numba
def test_fused_bounded_noise_is_the_scalar_definition_bit_for_bit():
    """The vectorised passes (hash to the bits of 2^52 + m, central and tail passes, the parts' sums of squares
    column by column across rows) give exactly the scalar definition; a reversed summation order is seen."""
    keys = run_keys(3, torch.arange(40)).numpy().view(np.uint64)
    salt = np.uint64(0x9E3779B97F4A7C15)
    dims, scale = (3, 11, 6), np.linspace(0.5, 2.0, 40)
    fused = fused_rng.shaped_normals(keys, salt, sum(dims), fused_rng.BOUNDED, np.cumsum((0,) + dims), 0.3, scale)
    assert np.array_equal(fused.view(np.uint64), scalar_bounded_normals(keys, salt, dims, 0.3, scale).view(np.uint64))
    planted = scalar_bounded_normals(keys, salt, dims, 0.3, scale, reverse=True)
    assert not np.array_equal(fused.view(np.uint64), planted.view(np.uint64))
