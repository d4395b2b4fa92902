"""The fused numba generator against the torch definitions, and the ziggurat's tables and law."""

import math
from decimal import Decimal

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import erfc, ndtr

from ubo.synthetic import fused_rng, rng
from ubo.synthetic.rng import CounterRNG, Draw, run_keys

needs_numba = pytest.mark.skipif(not fused_rng.AVAILABLE, reason="numba is not installed")
SIGN = torch.iinfo(torch.int64).min  # the top bit, as an int64


def layer_errors(tables) -> dict:
    """Relative departures from the ziggurat's geometry: every layer's area X_i (F_{i+1} - F_i) and the base's
    r F_1 + int_r^inf f against v, the virtual width X_0 F_1 against v, and the ratio table against X_{i+1} / X_i."""
    x, ratio, heights, rise = tables
    v, r = float(fused_rng.ZIG_V), float(fused_rng.ZIG_R)
    base = r * heights[1] + math.sqrt(math.pi / 2) * erfc(r / math.sqrt(2))
    return {"layers": float(np.max(np.abs(x[1:-1] * rise[1:] - v)) / v), "base": abs(base - v) / v,
            "virtual": abs(x[0] * heights[1] - v) / v,
            "ratio": float(np.max(np.abs(ratio - x[1:] / x[:-1]) / np.maximum(ratio, 1e-300))),
            "rise": float(np.max(np.abs(rise - (heights[1:] - heights[:-1])) / rise))}


def test_ziggurat_tables_have_equal_layers_and_close(monkeypatch):
    """256 layers of area v: each layer, the base (rectangle and Gaussian tail, SciPy's erfc), the top one (X_256 = 0,
    F_256 = 1) within 1e-13 of v (the float64 tables; decimal holds them to 30 digits); the edges decrease from
    X_1 = r. Planted and caught: tables built from v one part in 10^6 off (the top layer no longer closes)."""
    tables = (fused_rng.ZIG_X, fused_rng.ZIG_RATIO, fused_rng.ZIG_F, fused_rng.ZIG_RISE)
    assert max(layer_errors(tables).values()) < 1e-13
    x = fused_rng.ZIG_X
    assert x.shape == (257,) and x[1] == fused_rng.ZIG_R_FLOAT and x[-1] == 0.0 and fused_rng.ZIG_F[-1] == 1.0
    assert np.all(np.diff(x) < 0)
    monkeypatch.setattr(fused_rng, "ZIG_V", fused_rng.ZIG_V * Decimal("1.000001"))
    assert layer_errors(fused_rng._ziggurat_tables())["layers"] > 1e-4


EDGES = np.array([-np.inf, -5.0, -4.5, -4.0, -fused_rng.ZIG_R_FLOAT, -3.2, -2.7, -2.2, -1.8, -1.4, -1.0, -0.6, -0.3,
                  0.0, 0.3, 0.6, 1.0, 1.4, 1.8, 2.2, 2.7, 3.2, fused_rng.ZIG_R_FLOAT, 4.0, 4.5, 5.0, np.inf])


def law_p_value(z: np.ndarray) -> float:
    """Pearson's chi-square p-value of the counts in EDGES' bins (both tails beyond r, the wedges of the outer
    layers, the bulk) against the standard normal's probabilities (SciPy's ndtr)."""
    counts = np.histogram(z, EDGES)[0]
    expected = z.size * np.diff(ndtr(EDGES))
    return float(stats.chi2.sf(np.sum((counts - expected) ** 2 / expected), EDGES.size - 2))


def two_million_normals() -> np.ndarray:
    return CounterRNG(21, torch.arange(1000)).next().normal(2000, 3).reshape(-1).numpy()


def test_normals_follow_the_standard_normal_law(backend):
    """Two million normals against N(0, 1) in 26 bins (chi-square p > 1e-3), on each backend."""
    assert law_p_value(two_million_normals()) > 1e-3


@pytest.mark.parametrize("planted", ["wedge", "tail"])
def test_the_law_test_catches_a_broken_ziggurat(planted, monkeypatch):
    """Planted through the tables the torch path reads at call time: every wedge point accepted (no height drawn:
    F_{i+1} - F_i = 0), and the tail started at 3.0 instead of r. Both give p < 1e-6."""
    monkeypatch.setattr(rng, "_backend", "torch")
    if planted == "wedge":
        monkeypatch.setattr(fused_rng, "ZIG_RISE", np.zeros_like(fused_rng.ZIG_RISE))
    else:
        monkeypatch.setattr(fused_rng, "ZIG_R_FLOAT", 3.0)
    assert law_p_value(two_million_normals()) < 1e-6


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
    """1.2 million normals: the fused kernel and the torch operations give the same bits (the same tables, log_pos,
    correctly rounded division, no fused multiply-add), the rejected first attempts (1.5%, about 18,000) included.
    Planted: the torch path's later words from another constant, caught."""
    draw = CounterRNG(3, torch.arange(3000)).next()
    fused, plain = both(lambda: draw.normal(400, 2))
    assert torch.equal(fused, plain)
    monkeypatch.setattr(fused_rng, "RETRY", fused_rng.RETRY + 2)  # the kernels' constant is compiled in
    fused, plain = both(lambda: draw.normal(400, 2))
    assert not torch.equal(fused, plain)


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


def test_first_attempts_are_exactly_symmetric_and_the_moments_standard(backend):
    """A word and the word with its top bit flipped give opposite normals when the first attempt accepts (the sign
    is a bit of its own); 200k draws have mean 0, variance 1 and N(0, 1) quantiles."""
    words = CounterRNG(4, torch.arange(50)).next().bits(200)
    flipped = words ^ SIGN
    z, z_flipped = (rng.normals_from_bits(w, torch.float64) for w in (words, flipped))
    first = rng._magnitude(words) < torch.from_numpy(fused_rng.ZIG_RATIO)[words & 255]
    assert float(first.double().mean()) > 0.95
    assert torch.equal(z[first], -z_flipped[first]) and not torch.equal(z[~first], -z_flipped[~first])
    x = CounterRNG(9, torch.arange(400)).next().normal(500).reshape(-1).numpy()
    assert abs(x.mean()) < 5 / math.sqrt(x.size) and abs(x.var() - 1) < 5 * math.sqrt(2 / x.size)
    probs = np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    assert np.max(np.abs(np.mean(x[:, None] <= stats.norm.ppf(probs)[None, :], axis=0) - probs)) < 0.005


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


def definition(words, tables=None) -> np.ndarray:
    """fused_rng.ziggurat word by word (the scalar definition)."""
    tables = tables or (fused_rng.ZIG_X, fused_rng.ZIG_RATIO, fused_rng.ZIG_F, fused_rng.ZIG_RISE)
    return np.array([fused_rng.ziggurat(np.uint64(w), *tables) for w in np.asarray(words).view(np.uint64).ravel()])


def crafted_words(count: int, seed: int) -> np.ndarray:
    """int64 words: random ones, and ones that force layer 0 (the tail beyond r) or layer 255 (the top wedge)."""
    gen = np.random.default_rng(seed)
    random = gen.integers(-2**63, 2**63 - 1, count, dtype=np.int64)
    return np.concatenate([random, random & ~np.int64(255), random | np.int64(255)])


@needs_numba
def test_kernel_and_torch_path_are_the_scalar_definition_bit_for_bit():
    """The kernel's passes (first attempts vectorised, the rejected compacted and finished by ``ziggurat``) over
    three blocks of rows, and the torch path on words that force the tail and the top wedge, equal the scalar
    definition. Planted: the definition with no height drawn in the wedges differs (so the check can fail)."""
    keys = run_keys(8, torch.arange(300)).numpy().view(np.uint64)
    kernel = fused_rng.shaped_normals(keys, 2, 1, 20, fused_rng.RAW, np.array([0, 20]), 1.0, np.empty(0))
    assert np.array_equal(kernel.ravel().view(np.uint64), definition(fused_rng.bits(keys, 2, 1, 20)).view(np.uint64))
    words = crafted_words(3000, 1)
    torch_path = rng.normals_from_bits(torch.from_numpy(words), torch.float64).numpy()
    expected = definition(words)
    assert np.array_equal(torch_path.view(np.uint64), expected.view(np.uint64))
    assert np.mean(np.abs(expected[3000:6000]) > fused_rng.ZIG_R_FLOAT) > 0.05  # the tail was exercised
    no_wedge = (fused_rng.ZIG_X, fused_rng.ZIG_RATIO, fused_rng.ZIG_F, np.zeros_like(fused_rng.ZIG_RISE))
    assert not np.array_equal(definition(words, no_wedge).view(np.uint64), expected.view(np.uint64))


def ulps(a, b):
    return np.abs(a.view(np.int64) - b.view(np.int64))


# the arguments log_pos gets in the generator: uniforms (m + 1/2) / 2^53 (the tail), m random over [0, 2^53),
# denser near 0 and near 1, every power of two of 2m + 1 and its neighbours, the extremes; and wedge heights
# F_i + U (F_{i+1} - F_i) in (F_1, 1)
_gen = np.random.default_rng(7)
_edges = [v for e in range(54) for v in (2**e - 2, 2**e - 1, 2**e, (2**e - 1) // 2, 2**e // 2) if 0 <= v < 2**53]
_small = np.exp(_gen.uniform(0, math.log(2**40), 400_000)).astype(np.int64)
M = np.concatenate([_gen.integers(0, 2**53, 1_000_000), _small, 2**53 - 1 - _small, np.arange(10_000), _edges,
                    [0, 2**53 - 1]])
_layers = _gen.integers(1, 256, 400_000)
LOG_POINTS = np.concatenate([M.astype(np.float64) * 2.0**-53 + 2.0**-54,
                             fused_rng.ZIG_F[_layers] + _gen.random(400_000) * fused_rng.ZIG_RISE[_layers]])


def torch_log(p):
    return rng.log_pos(torch.from_numpy(p)).numpy()


def test_log_pos_within_one_ulp_of_libm():
    """log_pos (the torch twin of the kernel's, bit-identical: test below) against libm's log on 2.2 million points
    of the generator's arguments: never more than one ulp apart, and most points equal. Planted and caught: ln 2's
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
    """The definition element by element: ``ziggurat`` of each word of the hash, then each part times
    scale_r sigma / sqrt(sum of its squares, summed j = 0, 1, ... or, planted, in reverse) in Python floats."""
    out = definition(fused_rng.bits(keys, call, sub, sum(dims))).reshape(keys.shape[0], sum(dims))
    for r in range(out.shape[0]):
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
    """The vectorised passes (hash, first attempts, the rejected finished by ``ziggurat``, the parts' sums of squares
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
