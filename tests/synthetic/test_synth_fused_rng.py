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
def test_normals_are_the_same_bits_on_both_backends(monkeypatch):
    """1.2 million normals: the fused kernel and the torch operations give the same bits (same log_pos, correctly
    rounded sqrt and division, no fused multiply-add). Planted: torch's own CPU sqrt in the torch path, which is
    not always correctly rounded, is caught."""
    draw = CounterRNG(3, torch.arange(3000)).next()
    fused, plain = both(lambda: draw.normal(400, 2))
    assert torch.equal(fused, plain)
    monkeypatch.setattr(rng, "_sqrt", torch.sqrt)
    fused, plain = both(lambda: draw.normal(400, 2))
    assert not torch.equal(fused, plain) and float((fused - plain).abs().max()) < 1e-14


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


def marks(m, upper):
    """The floats -/+(2^52 + m) that the hash pass leaves for ``_invert`` (minus for the upper half)."""
    return np.where(upper, -1.0, 1.0) * (np.asarray(m, dtype=np.float64) + 2.0**52)


def ppnd16_of_marks(m, upper):
    z = np.array([fused_rng.ppnd16(float(v) * 2.0**-53 + 2.0**-54) for v in m])
    return np.where(upper, -z, z)


@needs_numba
@pytest.mark.parametrize("size", [100, 5000])
def test_inversion_passes_give_ppnd16_bit_for_bit(size):
    """The vectorised passes of ``_invert`` (central rational on all, compacted tails with log_pos / sqrt / near
    rational, far tail by ppnd16) equal ppnd16 element by element, signs included: at the tail threshold
    TAIL_M - 1 / TAIL_M, down to the far tail (m < 1.3e5: p < exp(-25), where the near formula is wrong)."""
    gen = np.random.default_rng(size)
    edge = [0, 1, 12345, fused_rng.TAIL_M - 1, fused_rng.TAIL_M, 2**52 - 1]
    m = np.concatenate([edge, gen.integers(0, 2**52, size - len(edge) - 20), gen.integers(0, 130_000, 20)])
    upper = gen.random(size) < 0.5
    flat = marks(m, upper)
    tails = int(np.sum(m < fused_rng.TAIL_M))
    fused_rng._invert(flat, tails, np.empty(size, np.int64), np.empty(tails + 1), np.empty(tails))
    assert np.array_equal(flat.view(np.uint64), ppnd16_of_marks(m, upper).view(np.uint64))
    # the check can fail: at m = TAIL_M - 1 the central formula differs (in its last bit: the two formulas join
    # there), and at m = 0 the near-tail formula differs
    q = (fused_rng.TAIL_M - 1) * 2.0**-53 + 2.0**-54 - 0.5
    central = q * fused_rng._horner8(fused_rng.A, fused_rng.CONST1 - q * q) / fused_rng._horner8(
        fused_rng.B, fused_rng.CONST1 - q * q)
    assert central != ppnd16_of_marks([fused_rng.TAIL_M - 1], [False])[0]
    near = math.sqrt(-fused_rng.log_pos(2.0**-54)) - fused_rng.CONST2
    near = -fused_rng._horner8(fused_rng.C, near) / fused_rng._horner8(fused_rng.D, near)
    assert near != ppnd16_of_marks([0], [False])[0]


def test_tail_threshold_is_the_branch_of_ppnd16():
    """TAIL_M is the least m whose p = (m + 1/2) / 2^53 takes AS241's central branch (|p - 1/2| <= SPLIT1)."""
    def tail(m):
        return abs((m * 2.0**-53 + 2.0**-54) - 0.5) > fused_rng.SPLIT1
    assert tail(fused_rng.TAIL_M - 1) and not tail(fused_rng.TAIL_M)
    assert not (tail(fused_rng.TAIL_M - 2) and not tail(fused_rng.TAIL_M - 1))  # a threshold one too high fails


def ulps(a, b):
    return np.abs(a.view(np.int64) - b.view(np.int64))


# p = (m + 1/2) / 2^53 as the generator reaches it: m random over [0, 2^52), denser in the tails, every power of
# two of 2m + 1 and its neighbours, and the extremes p = 2^-54 (m = 0), p just below / at the tail threshold, 1/2
_gen = np.random.default_rng(7)
_edges = [v for e in range(53) for v in (2**e - 2, 2**e - 1, 2**e, (2**e - 1) // 2, 2**e // 2) if 0 <= v < 2**52]
M = np.concatenate([_gen.integers(0, 2**52, 1_000_000), _gen.integers(0, fused_rng.TAIL_M, 1_000_000),
                    np.exp(_gen.uniform(0, math.log(2**40), 200_000)).astype(np.int64), np.arange(10_000),
                    _edges, [0, fused_rng.TAIL_M - 1, fused_rng.TAIL_M, 2**52 - 1]])
LOG_POINTS = M.astype(np.float64) * 2.0**-53 + 2.0**-54


def torch_log(p):
    return rng.log_pos(torch.from_numpy(p)).numpy()


def test_log_pos_within_one_ulp_of_libm():
    """log_pos (the torch twin of the kernel's, bit-identical: test below) against libm's log on 2.2 million points
    of the generator's range: never more than one ulp apart, and most points equal. Planted and caught: ln 2's
    low part dropped, ln 2's high part one ulp off, the first coefficient of P off by 1e-12 relative."""
    def compare():
        out, ref = torch_log(LOG_POINTS), np.log(LOG_POINTS)
        return int(ulps(out, ref).max()), float(np.mean(out != ref))

    worst, differing = compare()
    assert worst <= 1 and differing < 0.1
    saved = fused_rng.LN2_HI, fused_rng.LN2_LO, fused_rng.LOG_P
    planted = [("LN2_LO", 0.0), ("LN2_HI", np.nextafter(saved[0], 1.0)),
               ("LOG_P", (saved[2][0] * (1 + 1e-12),) + saved[2][1:])]
    try:
        for name, value in planted:
            setattr(fused_rng, name, value)
            worst, differing = compare()
            assert worst > 1 or differing >= 0.1, name
            fused_rng.LN2_HI, fused_rng.LN2_LO, fused_rng.LOG_P = saved
    finally:
        fused_rng.LN2_HI, fused_rng.LN2_LO, fused_rng.LOG_P = saved


def test_log_pos_error_below_one_ulp_against_mpmath():
    """Against the exact log (mpmath, 40 digits) on 1500 points: error below 0.75 ulp, and P within 1e-18 of
    (2 atanh(s) / s - 2) / s^2 relative to log f over its whole interval (the fit the constants claim)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    points = LOG_POINTS[np.random.default_rng(1).integers(0, LOG_POINTS.size, 1500)]
    out = torch_log(points)
    errors = [abs(mpmath.mpf(float(o)) - mpmath.log(mpmath.mpf(float(x)))) / np.spacing(abs(o))
              for o, x in zip(out, points)]
    assert max(errors) < 0.75
    for z in np.linspace(0.0, 0.0295, 300)[1:]:
        s = mpmath.sqrt(mpmath.mpf(z))
        exact = (2 * mpmath.atanh(s) / s - 2) / z
        approx = sum(mpmath.mpf(c) * mpmath.mpf(z) ** k for k, c in enumerate(fused_rng.LOG_P))
        assert abs(approx - exact) * z / 2 < 1e-18


@needs_numba
def test_log_pos_is_the_same_on_both_backends():
    """The kernel's log_pos (numba, scalar) and rng.log_pos (torch, vectorised) agree bit for bit; a torch twin
    with ln 2's high part one ulp off does not."""
    points = LOG_POINTS[::50]
    numba_log = np.array([fused_rng.log_pos(float(v)) for v in points])
    assert np.array_equal(numba_log.view(np.uint64), torch_log(points).view(np.uint64))
    saved = fused_rng.LN2_HI
    try:
        fused_rng.LN2_HI = np.nextafter(saved, 1.0)
        assert not np.array_equal(numba_log.view(np.uint64), torch_log(points).view(np.uint64))
    finally:
        fused_rng.LN2_HI = saved


@needs_numba
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**40), st.integers(0, 2**20))
def test_kernel_salt_is_the_draws_salt(call, sub):
    draw = Draw(run_keys(0, torch.tensor([0])), call, torch.float64)
    assert fused_rng.draw_salt(call, sub) == draw._salt(sub) & (2**64 - 1)
    if sub != call:  # planted: call and sub swapped
        assert fused_rng.draw_salt(sub, call) != draw._salt(sub) & (2**64 - 1)


def scalar_bounded_normals(keys, call, sub, dims, sigma, scale, reverse=False):
    """The definition element by element in Python floats: ppnd16 of (m + 1/2) / 2^53 from the hash's bits, then
    each part times scale_r sigma / sqrt(sum of its squares, summed j = 0, 1, ... or, planted, in reverse)."""
    bits = fused_rng.bits(keys, call, sub, sum(dims))
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
@pytest.mark.parametrize("runs, dims", [(250, (3, 11, 6)), (3, (2500, 600))])
def test_fused_bounded_noise_is_the_scalar_definition_bit_for_bit(runs, dims):
    """The vectorised passes (hash to the bits of 2^52 + m, central and tail passes, the parts' sums of squares
    four rows side by side) give exactly the scalar definition: over 250 runs x 20 (three blocks of rows, the
    last one partial, and rows left over from the groups of four) and over rows longer than a block. A reversed
    summation order is seen, and so is a row scale taken one row off."""
    assert runs * sum(dims) > 2 * fused_rng.BLOCK
    keys = run_keys(3, torch.arange(runs)).numpy().view(np.uint64)
    scale = np.linspace(0.5, 2.0, runs)
    fused = fused_rng.shaped_normals(keys, 5, 2, sum(dims), fused_rng.BOUNDED, np.cumsum((0,) + dims), 0.3, scale)
    expected = scalar_bounded_normals(keys, 5, 2, dims, 0.3, scale)
    assert np.array_equal(fused.view(np.uint64), expected.view(np.uint64))
    for planted in (scalar_bounded_normals(keys, 5, 2, dims, 0.3, scale, reverse=True),
                    scalar_bounded_normals(keys, 5, 2, dims, 0.3, np.roll(scale, 1))):
        assert not np.array_equal(fused.view(np.uint64), planted.view(np.uint64))
