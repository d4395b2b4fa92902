"""Fused CPU kernels for the counter-based generator (numba): one kernel per oracle call.

Each kernel computes, for every run r and element j, exactly the numbers synthetic.rng defines:

    salt    = mix64(call * SALT_CALL + sub * SALT_SUB + 1)   (``draw_salt``; uint64 wrap-around throughout)
    base_r  = mix64(key_r ^ salt)
    bits_rj = mix64(base_r + (j + 1) * GOLDEN)
    u_rj    = ((bits_rj >> 11) + 1/2) / 2^53                  (open interval (0, 1))
    k_rj    = bits_rj >> 11,  m = min(k, 2^53 - 1 - k)
    z_rj    = -/+ ppnd16((m + 1/2) / 2^53)   (- when k < 2^52)

``ppnd16`` is Wichura's AS241 (relative error about 1e-16) evaluated with exactly the float64 operations written
in it (Horner, no fused multiply-add), and its tail formulas take the logarithm ``log_pos``: a natural log of
the generator's own, defined by its operations, within one ulp of the exact log and equal to libm's in about
95% of points (since 30 Nov 2026; before, libm's log: the tails' normals of that stream differ from today's in
about 1% of the tail elements, by a few ulps). The normal reads the lower tail only, where (m + 1/2) / 2^53 is
exact: the law is exactly symmetric and never meets the rounding of u to 1.

``shaped_normals`` adds the noise shaping of synthetic.noise and works in blocks of whole rows (about BLOCK
elements, in the L1 cache): the hash in integers, AS241's central rational on every element and the tail
formulas on the compacted tail elements (both loops vectorised: no libm call, no branch), then the shaping.
Every element gets the same operations whatever the batch size or its block, so run r alone equals run r
inside a batch bit for bit. Without numba (or on a GPU) synthetic.rng runs the same definitions as torch
operations; tests/synthetic/test_synth_fused_rng.py checks the two against each other (the same bits).
"""
from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - exercised on installs without numba
    numba = None

AVAILABLE = numba is not None

# AS241 (Wichura 1988, Applied Statistics 37(3):477-484), PPND16: relative error about 1e-16.
SPLIT1, SPLIT2, CONST1, CONST2 = 0.425, 5.0, 0.180625, 1.6
A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
     4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3)
B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
     2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3)
C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
     1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4)
D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
     1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9)
E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
     2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
     7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15)


def _tail_m() -> int:
    """The least m whose p = (m + 1/2) / 2^53 takes AS241's central branch, |p - 1/2| <= SPLIT1 in float64
    (q = p - 1/2 is rounded, so this is found by bisection on the same float operations, not from 0.075)."""
    lo, hi = 0, 2**52  # tail at lo, central at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if abs((mid * 2.0**-53 + 2.0**-54) - 0.5) > SPLIT1:
            lo = mid
        else:
            hi = mid
    return hi


TAIL_M = _tail_m()  # m < TAIL_M: the tail formulas (about 15% of the elements)

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


@_jit
def ppnd16(p):
    """Wichura's AS241 PPND16: the standard normal quantile of p in (0, 1) (p, 1 - p >= 2^-1022: log_pos reads
    normal floats; the generator's p are >= 2^-54)."""
    q = p - 0.5
    if abs(q) <= SPLIT1:
        r = CONST1 - q * q
        return q * _horner8(A, r) / _horner8(B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-log_pos(r))
    if r <= SPLIT2:
        r = r - CONST2
        val = _horner8(C, r) / _horner8(D, r)
    else:
        r = r - SPLIT2
        val = _horner8(E, r) / _horner8(F, r)
    return -val if q < 0.0 else val


_U = np.uint64 if AVAILABLE else int  # without numba only ppnd16 / log_pos run (in Python), never the kernels
_GOLDEN = _U(0x9E3779B97F4A7C15)
_SALT_CALL, _SALT_SUB = _U(SALT_CALL), _U(SALT_SUB)
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)
_TOP = _U((1 << 53) - 1)
_MID = _U(1 << 52)
_EXP52, _S63 = _U(0x4330000000000000), _U(63)  # the bits of the float 2^52; the sign bit's shift
_SCALE, _HALF, _TWO52 = 2.0**-53, 2.0**-54, 2.0**52
_MANT, _SQRT2_MANT, _BIAS, _S52 = _U((1 << 52) - 1), _U(0x6A09E667F3BCD), _U(1023), _U(52)
_TWO52_BIAS = 2.0**52 + 1023
_TAIL_M = _U(TAIL_M)


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
def bits(keys, call, sub, n):
    """(R, n) uint64: the 64 random bits of every element of sub-stream ``sub`` of oracle call ``call``."""
    salt = draw_salt(call, sub)
    out = np.empty((keys.shape[0], n), dtype=np.uint64)
    for r in range(keys.shape[0]):
        step = _mix(keys[r] ^ salt)
        for j in range(n):
            step = step + _GOLDEN
            out[r, j] = _mix(step)
    return out


@_jit
def uniforms(keys, call, sub, n):
    """(R, n) float64 uniforms in (0, 1)."""
    salt = draw_salt(call, sub)
    out = np.empty((keys.shape[0], n), dtype=np.float64)
    for r in range(keys.shape[0]):
        step = _mix(keys[r] ^ salt)
        for j in range(n):
            step = step + _GOLDEN
            out[r, j] = float(_mix(step) >> _S11) * _SCALE + _HALF
    return out


@_jit
def _hash_marks(keys, salt, r0, n, block):
    """The hash of rows r0, r0 + 1, ... (n elements each) into ``block``, in integers only: the bits of the float
    -/+(2^52 + m), m = min(k, 2^53 - 1 - k) < 2^52, minus for the upper half, so that float(m) = |.| - 2^52
    exactly without an int -> float conversion (AVX2 has none for 64 bits). Returns the number of tail
    elements (m < TAIL_M)."""
    raw = block.view(np.uint64)
    tails = 0
    for r in range(block.shape[0] // n):
        step = _mix(keys[r0 + r] ^ salt)
        row = r * n
        for j in range(n):
            step = step + _GOLDEN
            k = _mix(step) >> _S11
            upper = k >= _MID
            m = _TOP - k if upper else k
            tails += m < _TAIL_M
            raw[row + j] = (m | _EXP52) | (_U(upper) << _S63)
    return tails


@_jit
def _invert(flat, tails, idx, marked, z):
    """The marks -/+(2^52 + m) of ``flat`` (``_hash_marks``) replaced by their normals -/+ppnd16((m + 1/2) / 2^53),
    in passes that LLVM vectorizes (no libm call, no branch inside them): the tail elements (m < TAIL_M, about
    15%) compacted into ``marked`` (their positions in ``idx``), AS241's central rational on every element in
    place, then on the compacted tails log (``log_pos``), sqrt and the near-tail rational, scattered back; the
    far tail (r > SPLIT2, p < exp(-25)) by ``ppnd16`` itself. Each element gets exactly ``ppnd16``'s operations.
    ``idx`` needs len(flat) entries, ``marked`` and ``z`` tails."""
    raw = flat.view(np.uint64)
    t = 0
    if tails > 0:
        for i in range(flat.shape[0]):
            idx[t] = i
            t += (raw[i] & _MANT) < _TAIL_M
        for t in range(tails):
            marked[t] = flat[idx[t]]
    for i in range(flat.shape[0]):
        f = flat[i]
        q = ((abs(f) - _TWO52) * _SCALE + _HALF) - 0.5
        rr = CONST1 - q * q
        v = q * _horner8(A, rr) / _horner8(B, rr)
        flat[i] = v if f > 0.0 else -v
    far = 0
    for t in range(tails):
        f = marked[t]
        r = math.sqrt(-log_pos((abs(f) - _TWO52) * _SCALE + _HALF))
        near = r - CONST2
        v = _horner8(C, near) / _horner8(D, near)
        far += r > SPLIT2
        z[t] = -v if f > 0.0 else v
    for t in range(tails):
        flat[idx[t]] = z[t]
    if far:
        for t in range(tails):
            f = marked[t]
            p = (abs(f) - _TWO52) * _SCALE + _HALF
            if math.sqrt(-log_pos(p)) > SPLIT2:
                v = ppnd16(p)
                flat[idx[t]] = v if f > 0.0 else -v


@_jit
def _bound_rows(block, n, r0, bounds, sigma, scale, factor):
    """block[r, part] *= scale_{r0 + r} sigma / ||block[r, part]|| for every part [bounds[k], bounds[k + 1]) of
    the rows of ``block`` (n elements each; ``factor`` holds one number per row). The squares are summed in the
    order j = lo, lo + 1, ... of each row, four rows side by side (independent sums instead of one chain of
    dependent additions); the factors are then computed in one vectorised loop."""
    rows = block.shape[0] // n
    for k in range(bounds.shape[0] - 1):
        lo, width = bounds[k], bounds[k + 1] - bounds[k]
        r = 0
        while r + 4 <= rows:
            a = r * n + lo
            b, c, d = a + n, a + 2 * n, a + 3 * n
            sa = sb = sc = sd = 0.0
            for j in range(width):
                va, vb, vc, vd = block[a + j], block[b + j], block[c + j], block[d + j]
                sa += va * va
                sb += vb * vb
                sc += vc * vc
                sd += vd * vd
            factor[r], factor[r + 1], factor[r + 2], factor[r + 3] = sa, sb, sc, sd
            r += 4
        while r < rows:
            a = r * n + lo
            s = 0.0
            for j in range(width):
                s += block[a + j] * block[a + j]
            factor[r] = s
            r += 1
        if scale.shape[0] > 0:
            for r in range(rows):
                factor[r] = scale[r0 + r] * sigma / math.sqrt(factor[r])
        else:
            for r in range(rows):
                factor[r] = 1.0 * sigma / math.sqrt(factor[r])
        for r in range(rows):
            f = factor[r]
            for j in range(r * n + lo, r * n + lo + width):
                block[j] *= f


@_jit
def _gaussian_rows(block, n, r0, bounds, sigma, scale):
    """block[r, part] *= scale_{r0 + r} (sigma / sqrt(width)) for every part."""
    for r in range(block.shape[0] // n):
        row = scale[r0 + r] if scale.shape[0] > 0 else 1.0
        for k in range(bounds.shape[0] - 1):
            lo, hi = bounds[k], bounds[k + 1]
            factor = row * (sigma / math.sqrt(hi - lo))
            for j in range(r * n + lo, r * n + hi):
                block[j] *= factor


@_jit
def shaped_normals(keys, call, sub, n, mode, bounds, sigma, scale):
    """(R, n) float64 standard normals of sub-stream ``sub`` of oracle call ``call``, shaped per part
    [bounds[k], bounds[k + 1]) when mode != RAW.

    BOUNDED: z * (scale_r * sigma / ||z||) per part;  GAUSSIAN: z * (scale_r * (sigma / sqrt(d))) per part.
    ``scale`` (R,) multiplies each row; an empty array means no row scale. Computed in blocks of about
    BLOCK elements (whole rows) that stay in the L1 cache through the hash, the inversion and the shaping.
    """
    R = keys.shape[0]
    salt = draw_salt(call, sub)
    out = np.empty((R, n), dtype=np.float64)
    flat = out.reshape(-1)
    rows = max(1, BLOCK // max(n, 1))
    size = min(R, rows) * n
    idx = np.empty(size, dtype=np.int64)
    marked = np.empty(size, dtype=np.float64)
    z = np.empty(size, dtype=np.float64)
    factor = np.empty(min(R, rows), dtype=np.float64)
    for r0 in range(0, R, rows):
        block = flat[r0 * n:min(R, r0 + rows) * n]
        tails = _hash_marks(keys, salt, r0, n, block)
        _invert(block, tails, idx, marked, z)
        if mode == BOUNDED:
            _bound_rows(block, n, r0, bounds, sigma, scale, factor)
        elif mode == GAUSSIAN:
            _gaussian_rows(block, n, r0, bounds, sigma, scale)
    return out
