"""Fused CPU kernels for the counter-based generator (numba): one kernel per oracle call.

Each kernel computes, for every run r and element j, exactly the numbers synthetic.rng defines:

    salt    = mix64(call * SALT_CALL + sub * SALT_SUB + 1)   (``draw_salt``; uint64 wrap-around throughout)
    base_r  = mix64(key_r ^ salt)
    w_rj    = mix64(base_r + (j + 1) * GOLDEN)               (the element's word)
    u_rj    = ((w_rj >> 11) + 1/2) / 2^53                     (open interval (0, 1))
    z_rj    = ziggurat(w_rj)                                  (a standard normal)

``ziggurat`` is Marsaglia and Tsang's ziggurat (J. Stat. Softw. 5(8), 2000) with N = 256 layers of equal area
v under f(x) = exp(-x^2 / 2), edges r = X_1 > X_2 > ... > X_255 > X_256 = 0, F_i = f(X_i), the virtual base
width X_0 = v / F_1. Attempt c reads the word w_c (w_0 = w, w_c = mix64(w + c RETRY) for later words, so the
element alone decides how many it needs):

    i = w_c & 255 (low 8 bits),  a = (m + 1/2) / 2^52 with m = bits 11..62,  s = bit 63 (the sign)
    |a| < X_{i+1} / X_i                      ->  z = -/+ a X_i                    (98.5% of elements)
    i = 0 (beyond r)                         ->  t = -log(U) / r, y = -log(U') from the next words until
                                                 2 y > t^2;  z = -/+ (r + t)      (Marsaglia 1964's tail)
    i > 0, F_i + U (F_{i+1} - F_i) < f(a X_i) ->  z = -/+ a X_i                    (the wedge, tested as logs)
    otherwise the next attempt.

The index and the magnitude come from disjoint bits (Doornik 2005's correction of the 2000 method), and the
sign is one bit of its own: a word and the word with bit 63 flipped give opposite normals when their first
attempt accepts, so the 98.5% of elements that end there are exactly symmetric; a retry's sign is a bit of a
hashed word (symmetric to the hash's quality). The tables are computed once from r and v (written
to 30 digits, found so that the top layer closes) with the ``decimal`` module at 40 digits and rounded once to
float64, so they are the same bits on every machine; the logs are ``log_pos``, the generator's own natural
log (within one ulp of the exact log, defined by its operations, no libm), so both backends take the same
decisions. (Until 30 Nov 2026 the normals were Wichura's AS241 inverse of the same 53 bits: the numbers of that
stream are in git history.)

``shaped_normals`` adds the noise shaping of synthetic.noise and works in blocks of whole rows (about BLOCK
elements, in the L1 cache): the hash in integers (vectorised), the first attempt of every element (a table
lookup, a product and a comparison), the rejected ones (1.5%) noted and taken through ``ziggurat`` from
their word, then the shaping. Every element gets the same operations whatever the batch size
or its block, so run r alone equals run r inside a batch bit for bit. Without numba (or on a GPU)
synthetic.rng runs the same definitions as torch operations; tests/synthetic/test_synth_fused_rng.py checks
the two against each other (the same bits).
"""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - exercised on installs without numba
    numba = None

AVAILABLE = numba is not None

# The ziggurat: N layers; r and v solve v = r f(r) + int_r^inf f (the base layer) and X_{N-1} (1 - F_{N-1}) = v
# (the top layer closes), found by bisection at 50 digits (mpmath) and written to 30.
ZIG_LAYERS = 256
ZIG_R = Decimal("3.6541528853610087716454297204")
ZIG_V = Decimal("0.00492867323397465534736177540234")
RETRY = 0xD1B54A32D192ED03  # odd: w_c = mix64(w + c RETRY) are an element's later words


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, X_{i+1} / X_i, F, F_{i+1} - F_i) for i = 0..N (the last two of length N), computed in decimal at 40
    digits and rounded once to float64: X_0 = v / f(r), X_1 = r, X_{i+1} = sqrt(-2 log(F_i + v / X_i)),
    X_N = 0."""
    with localcontext() as ctx:
        ctx.prec = 40

        def f(x):
            return (-(x * x) / 2).exp()

        x = [ZIG_V / f(ZIG_R), ZIG_R]
        for i in range(1, ZIG_LAYERS - 1):
            x.append((-2 * (f(x[i]) + ZIG_V / x[i]).ln()).sqrt())
        x.append(Decimal(0))
        heights = [f(v) for v in x]
        ratio = [x[i + 1] / x[i] for i in range(ZIG_LAYERS)]
        rise = [heights[i + 1] - heights[i] for i in range(ZIG_LAYERS)]
    as_floats = lambda values: np.array([float(v) for v in values])  # noqa: E731 - float(Decimal) rounds once
    return as_floats(x), as_floats(ratio), as_floats(heights), as_floats(rise)


ZIG_X, ZIG_RATIO, ZIG_F, ZIG_RISE = _ziggurat_tables()
ZIG_R_FLOAT = float(ZIG_R)

# log_pos: P(z) ~ (2 atanh(s) / s - 2) / z, z = s^2 in [0, 0.0295], degree 7 (mpmath.chebyfit, 60 digits, rounded);
# ln 2 = LN2_HI + LN2_LO with LN2_HI = ln 2 rounded to 39 significant bits (k LN2_HI exact for |k| < 2^13).
LOG_P = (0.6666666666666666, 0.4000000000000089, 0.2857142857079543, 0.2222222239356661, 0.18181795442371984,
         0.1538625044794019, 0.13268485680654427, 0.13089629160674623)
LN2_HI, LN2_LO = 0.6931471805601177, -1.7239444525614835e-13

SALT_CALL, SALT_SUB = 0x2545F4914F6CDD1D, 0x632BE59BD9B4E019  # the salt of (call, sub): ``draw_salt``

# Noise-shaping modes of ``shaped_normals``.
RAW, BOUNDED, GAUSSIAN = 0, 1, 2
BLOCK = 2048  # elements per block of ``shaped_normals`` (16 KiB of output)


def _jit(fn):
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn) if AVAILABLE else fn


def _jit_split(fn):
    """``_jit`` with numba's prange: the kernels that cut their runs into chunks, one per thread
    (synthetic.fused_threads decides when)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)(fn) if AVAILABLE else fn


prange = numba.prange if AVAILABLE else range


@_jit
def chunk_rows(c, chunks, runs):
    """Rows [lo, hi) of chunk c when ``runs`` rows are cut into ``chunks`` contiguous chunks (the split kernels)."""
    return c * runs // chunks, (c + 1) * runs // chunks


if AVAILABLE:
    from llvmlite import ir
    from numba.extending import intrinsic

    @intrinsic
    def _float_bits(typingctx, x):
        """The 64 bits of a float64, as a uint64 (a bit cast, not a conversion)."""
        return numba.types.uint64(numba.types.float64), lambda context, builder, sig, args: builder.bitcast(
            args[0], ir.IntType(64))

    @intrinsic
    def _bits_float(typingctx, x):
        """The float64 whose 64 bits are the uint64 x."""
        return numba.types.float64(numba.types.uint64), lambda context, builder, sig, args: builder.bitcast(
            args[0], ir.DoubleType())
else:  # pragma: no cover
    def _float_bits(x):
        return int(np.float64(x).view(np.uint64))

    def _bits_float(x):
        return float(np.uint64(x).view(np.float64))


@_jit
def _horner8(c, r):
    """((((((c7 r + c6) r + c5) r + c4) r + c3) r + c2) r + c1) r + c0, each step rounded."""
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r + c[0]


@_jit
def log_pos(x):
    """Natural log of a positive normal float64, within one ulp, without libm (so loops over it vectorize).

    x = 2^k f with f in [sqrt(2)/2, sqrt(2)) read from the bits; g = f - 1, s = g / (2 + g) (|s| < 0.1716),
    log f = 2 atanh(s) = g - (h - s (h + R)), h = g^2 / 2, R = z P(z) with z = s^2 and P (``LOG_P``) the
    degree-7 Chebyshev interpolant of (2 atanh(s) / s - 2) / z on [0, 0.0295] (relative error of s R against
    log f below 6e-19); log x = k LN2_HI - ((h - (s (h + R) + k LN2_LO)) - g) with ln 2 = LN2_HI + LN2_LO and
    k LN2_HI exact. float(k) is (2^52 + biased k) - (2^52 + 1023) from the bits, as exact as a conversion."""
    hx = _float_bits(x)
    mant = hx & _MANT
    big = _U(mant >= _SQRT2_MANT)  # f >= sqrt(2): use f / 2 and k + 1
    f = _bits_float(mant | ((_BIAS - big) << _S52))
    k = _bits_float(((hx >> _S52) + big) | _EXP52) - _TWO52_BIAS
    g = f - 1.0
    s = g / (2.0 + g)
    z = s * s
    big_r = z * _horner8(LOG_P, z)
    h = 0.5 * g * g
    return k * LN2_HI - ((h - (s * (h + big_r) + k * LN2_LO)) - g)


_U = np.uint64 if AVAILABLE else int  # without numba only log_pos runs (in Python), never the kernels
_GOLDEN = _U(0x9E3779B97F4A7C15)
_SALT_CALL, _SALT_SUB = _U(SALT_CALL), _U(SALT_SUB)
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)
_EXP52 = _U(0x4330000000000000)  # the bits of the float 2^52
_SIGN, _LOW8, _RETRY = _U(1 << 63), _U(ZIG_LAYERS - 1), _U(RETRY)
_SCALE, _HALF, _TWO52, _SCALE52 = 2.0**-53, 2.0**-54, 2.0**52, 2.0**-52
_MANT, _SQRT2_MANT, _BIAS, _S52 = _U((1 << 52) - 1), _U(0x6A09E667F3BCD), _U(1023), _U(52)
_TWO52_BIAS = 2.0**52 + 1023


@_jit
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def draw_salt(call, sub):
    """mix64(call * SALT_CALL + sub * SALT_SUB + 1) (uint64 wrap-around): the salt of one draw's sub-stream."""
    return _mix(_U(call) * _SALT_CALL + _U(sub) * _SALT_SUB + _U(1))


@_jit
def _bits_rows(out, keys, salt, lo, hi):
    """Rows lo..hi-1 of ``bits`` into out."""
    for r in range(lo, hi):
        step = _mix(keys[r] ^ salt)
        for j in range(out.shape[1]):
            step = step + _GOLDEN
            out[r, j] = _mix(step)


@_jit
def bits(keys, call, sub, n):
    """(R, n) uint64: the 64 random bits of every element of sub-stream ``sub`` of oracle call ``call``."""
    out = np.empty((keys.shape[0], n), dtype=np.uint64)
    _bits_rows(out, keys, draw_salt(call, sub), 0, keys.shape[0])
    return out


@_jit_split
def bits_split(chunks, keys, call, sub, n):
    """``bits`` with the runs cut into ``chunks`` contiguous chunks, one per thread (the same bits)."""
    runs, salt = keys.shape[0], draw_salt(call, sub)
    out = np.empty((runs, n), dtype=np.uint64)
    for c in prange(chunks):
        lo, hi = chunk_rows(c, chunks, runs)
        _bits_rows(out, keys, salt, lo, hi)
    return out


@_jit
def _open_unit(w):
    """((w >> 11) + 1/2) / 2^53: the uniform in (0, 1) of a word (the conversion is exact: w >> 11 < 2^53)."""
    return float(w >> _S11) * _SCALE + _HALF


@_jit
def _uniform_rows(out, keys, salt, lo, hi):
    """Rows lo..hi-1 of ``uniforms`` into out."""
    for r in range(lo, hi):
        step = _mix(keys[r] ^ salt)
        for j in range(out.shape[1]):
            step = step + _GOLDEN
            out[r, j] = _open_unit(_mix(step))


@_jit
def uniforms(keys, call, sub, n):
    """(R, n) float64 uniforms in (0, 1)."""
    out = np.empty((keys.shape[0], n), dtype=np.float64)
    _uniform_rows(out, keys, draw_salt(call, sub), 0, keys.shape[0])
    return out


@_jit_split
def uniforms_split(chunks, keys, call, sub, n):
    """``uniforms`` with the runs cut into ``chunks`` contiguous chunks, one per thread (the same bits)."""
    runs, salt = keys.shape[0], draw_salt(call, sub)
    out = np.empty((runs, n), dtype=np.float64)
    for c in prange(chunks):
        lo, hi = chunk_rows(c, chunks, runs)
        _uniform_rows(out, keys, salt, lo, hi)
    return out


@_jit
def _magnitude(w):
    """(m + 1/2) / 2^52 with m = bits 11..62 of w, in (0, 1): float(m) is (2^52 + m) - 2^52 read from the bits
    (AVX2 has no 64-bit int -> float conversion, so this keeps the loops over it vectorised)."""
    return ((_bits_float(((w >> _S11) & _MANT) | _EXP52) - _TWO52) + 0.5) * _SCALE52


@_jit
def ziggurat(w, x_tab, ratio, heights, rise):
    """The standard normal of the word w (module docstring): attempts on w, mix64(w + c RETRY), ...; the sign
    is the top bit of the accepted attempt's word. The tables are arguments (the kernels pass ZIG_X, ZIG_RATIO,
    ZIG_F, ZIG_RISE) so that a test can hand it wrong ones."""
    c = _U(0)
    word = w
    while True:
        i = word & _LOW8
        a = _magnitude(word)
        if a < ratio[i]:  # inside layer i's rectangle: under the curve
            z = a * x_tab[i]
            break
        if i == 0:  # beyond r: Marsaglia's tail, from the next words of this element
            while True:
                c += _U(1)
                t = -log_pos(_open_unit(_mix(w + c * _RETRY))) / ZIG_R_FLOAT
                c += _U(1)
                y = -log_pos(_open_unit(_mix(w + c * _RETRY)))
                if y + y > t * t:
                    break
            z = ZIG_R_FLOAT + t
            break
        x = a * x_tab[i]  # in layer i's wedge: accept when a uniform height falls under f(x)
        c += _U(1)
        if log_pos(heights[i] + _open_unit(_mix(w + c * _RETRY)) * rise[i]) < -0.5 * x * x:
            z = x
            break
        c += _U(1)
        word = _mix(w + c * _RETRY)
    return -z if word >= _SIGN else z


@_jit
def _first_attempts(keys, salt, r0, n, block, idx, words, x_tab, ratio):
    """Rows r0, r0 + 1, ... (n elements each) of the stream into ``block``: the words (the hash, in integers, a
    vectorised loop), then -/+ a X_i of every element's first attempt (a table lookup, a product, the sign bit
    set in integers), the rejected ones' positions and words noted in ``idx`` and ``words`` as the loop meets
    them. (A plain loop: vectorised, it would need two gathers per element, which cost more on AVX2 than the
    scalar loads.) Returns the number of rejected elements, which ``ziggurat`` then finishes."""
    raw = block.view(np.uint64)
    for r in range(block.shape[0] // n):
        step = _mix(keys[r0 + r] ^ salt)
        row = r * n
        for j in range(n):
            step = step + _GOLDEN
            raw[row + j] = _mix(step)
    rejected = 0
    for e in range(block.shape[0]):
        w = raw[e]
        i = w & _LOW8
        a = _magnitude(w)
        raw[e] = _float_bits(a * x_tab[i]) | (w & _SIGN)
        if not (a < ratio[i]):
            idx[rejected] = e
            words[rejected] = w
            rejected += 1
    return rejected


@_jit
def _bound_rows(block, n, r0, bounds, sigma, scale, factor):
    """block[r, part] *= scale_{r0 + r} sigma / ||block[r, part]|| for every part [bounds[k], bounds[k + 1]) of
    the rows of ``block`` (n elements each; ``factor`` holds one number per row). The squares are summed in the
    order j = lo, lo + 1, ... of each row, four rows side by side (independent sums instead of one chain of
    dependent additions); the factors are then computed in one vectorised loop. Indices are unsigned: numba then
    needs no negative-index wrap-around per access, which kept these loops from vectorising (1.6-2.5x faster,
    the same bits; benchmarks/RESULTS.md, sixth pass)."""
    rows, un, one, four = _U(block.shape[0] // n), _U(n), _U(1), _U(4)
    for k in range(bounds.shape[0] - 1):
        lo, width = _U(bounds[k]), _U(bounds[k + 1] - bounds[k])
        r = _U(0)
        while r + four <= rows:
            a = r * un + lo
            b, c, d = a + un, a + _U(2) * un, a + _U(3) * un
            sa = sb = sc = sd = 0.0
            for j in range(width):
                va, vb, vc, vd = block[a + j], block[b + j], block[c + j], block[d + j]
                sa += va * va
                sb += vb * vb
                sc += vc * vc
                sd += vd * vd
            factor[r], factor[r + one], factor[r + _U(2)], factor[r + _U(3)] = sa, sb, sc, sd
            r += four
        while r < rows:
            a = r * un + lo
            s = 0.0
            for j in range(width):
                s += block[a + j] * block[a + j]
            factor[r] = s
            r += one
        if scale.shape[0] > 0:
            for r in range(rows):
                factor[r] = scale[_U(r0) + r] * sigma / math.sqrt(factor[r])
        else:
            for r in range(rows):
                factor[r] = 1.0 * sigma / math.sqrt(factor[r])
        for r in range(rows):
            f = factor[r]
            a = r * un + lo
            for j in range(width):
                block[a + j] *= f


@_jit
def _gaussian_rows(block, n, r0, bounds, sigma, scale):
    """block[r, part] *= scale_{r0 + r} (sigma / sqrt(width)) for every part (unsigned indices, as ``_bound_rows``)."""
    un = _U(n)
    for r in range(_U(block.shape[0] // n)):
        row = scale[_U(r0) + r] if scale.shape[0] > 0 else 1.0
        for k in range(bounds.shape[0] - 1):
            lo, hi = _U(bounds[k]), _U(bounds[k + 1])
            factor = row * (sigma / math.sqrt(hi - lo))
            for j in range(r * un + lo, r * un + hi):
                block[j] *= factor


@_jit
def _shaped_rows(out, keys, salt, lo, hi, mode, bounds, sigma, scale):
    """Rows lo..hi-1 of ``shaped_normals`` into out, in blocks of about BLOCK elements (whole rows)."""
    n = out.shape[1]
    flat = out.reshape(-1)
    rows = max(1, BLOCK // max(n, 1))
    size = min(hi - lo, rows) * n
    idx = np.empty(size, dtype=np.int64)
    words = np.empty(size, dtype=np.uint64)
    factor = np.empty(min(hi - lo, rows), dtype=np.float64)
    for r0 in range(lo, hi, rows):
        block = flat[r0 * n:min(hi, r0 + rows) * n]
        rejected = _first_attempts(keys, salt, r0, n, block, idx, words, ZIG_X, ZIG_RATIO)
        for k in range(rejected):
            block[idx[k]] = ziggurat(words[k], ZIG_X, ZIG_RATIO, ZIG_F, ZIG_RISE)
        if mode == BOUNDED:
            _bound_rows(block, n, r0, bounds, sigma, scale, factor)
        elif mode == GAUSSIAN:
            _gaussian_rows(block, n, r0, bounds, sigma, scale)


@_jit
def shaped_normals(keys, call, sub, n, mode, bounds, sigma, scale):
    """(R, n) float64 standard normals of sub-stream ``sub`` of oracle call ``call``, shaped per part
    [bounds[k], bounds[k + 1]) when mode != RAW.

    BOUNDED: z * (scale_r * sigma / ||z||) per part;  GAUSSIAN: z * (scale_r * (sigma / sqrt(d))) per part.
    ``scale`` (R,) multiplies each row; an empty array means no row scale. Computed in blocks of about
    BLOCK elements (whole rows) that stay in the L1 cache through the hash, the ziggurat and the shaping.
    """
    out = np.empty((keys.shape[0], n), dtype=np.float64)
    _shaped_rows(out, keys, draw_salt(call, sub), 0, keys.shape[0], mode, bounds, sigma, scale)
    return out


@_jit_split
def shaped_normals_split(chunks, keys, call, sub, n, mode, bounds, sigma, scale):
    """``shaped_normals`` with the runs cut into ``chunks`` contiguous chunks, one per thread (the same bits)."""
    runs, salt = keys.shape[0], draw_salt(call, sub)
    out = np.empty((runs, n), dtype=np.float64)
    for c in prange(chunks):
        lo, hi = chunk_rows(c, chunks, runs)
        _shaped_rows(out, keys, salt, lo, hi, mode, bounds, sigma, scale)
    return out
