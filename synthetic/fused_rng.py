"""Fused CPU kernels for the counter-based generator (numba): one pass per oracle call.

Each kernel computes, for every run r and element j, exactly the numbers synthetic.rng defines:

    base_r  = mix64(key_r ^ salt)
    bits_rj = mix64(base_r + (j + 1) * GOLDEN)               (uint64 wrap-around)
    u_rj    = ((bits_rj >> 11) + 1/2) / 2^53                  (open interval (0, 1))
    k_rj    = bits_rj >> 11,  m = min(k, 2^53 - 1 - k)
    z_rj    = -/+ Phi^-1((m + 1/2) / 2^53)   (- when k < 2^52)  (Wichura's AS241, ``ppnd16``)

The normal reads the lower tail only, where (m + 1/2) / 2^53 is exact: the law is exactly symmetric and
never meets the rounding of u to 1.

and optionally the noise shaping of synthetic.noise (``shaped_normals``). One element is computed
by the same scalar code whatever the batch size, so run r alone equals run r inside a batch bit
for bit. Without numba (or on a GPU) synthetic.rng runs the same definitions as torch operations;
tests/synthetic/test_fused_rng.py checks the two against each other.
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

# Noise-shaping modes of ``shaped_normals``.
RAW, BOUNDED, GAUSSIAN = 0, 1, 2


def _jit(fn):
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn) if AVAILABLE else fn


@_jit
def _horner8(c, r):
    """((((((c7 r + c6) r + c5) r + c4) r + c3) r + c2) r + c1) r + c0, each step rounded."""
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r + c[0]


@_jit
def ppnd16(p):
    """Wichura's AS241 PPND16: the standard normal quantile of p in (0, 1)."""
    q = p - 0.5
    if abs(q) <= SPLIT1:
        r = CONST1 - q * q
        return q * _horner8(A, r) / _horner8(B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= SPLIT2:
        r = r - CONST2
        val = _horner8(C, r) / _horner8(D, r)
    else:
        r = r - SPLIT2
        val = _horner8(E, r) / _horner8(F, r)
    return -val if q < 0.0 else val


if AVAILABLE:
    _U = np.uint64
    _GOLDEN = _U(0x9E3779B97F4A7C15)
    _M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
    _S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)
    _TOP = _U((1 << 53) - 1)
    _MID = _U(1 << 52)
    _EXP52, _S63 = _U(0x4330000000000000), _U(63)  # the bits of the float 2^52; the sign bit's shift
    _SCALE, _HALF, _TWO52 = 2.0**-53, 2.0**-54, 2.0**52
else:  # pragma: no cover
    _U = int
    _GOLDEN = _M1 = _M2 = _S30 = _S27 = _S31 = _S11 = _TOP = _MID = _EXP52 = _S63 = 0
    _SCALE = _HALF = _TWO52 = 0.0


@_jit
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def bits(keys, salt, n):
    """(R, n) uint64: the 64 random bits of every element."""
    out = np.empty((keys.shape[0], n), dtype=np.uint64)
    for r in range(keys.shape[0]):
        base = _mix(keys[r] ^ salt)
        step = base
        for j in range(n):
            step = step + _GOLDEN
            out[r, j] = _mix(step)
    return out


@_jit
def uniforms(keys, salt, n):
    """(R, n) float64 uniforms in (0, 1)."""
    out = np.empty((keys.shape[0], n), dtype=np.float64)
    for r in range(keys.shape[0]):
        step = _mix(keys[r] ^ salt)
        for j in range(n):
            step = step + _GOLDEN
            out[r, j] = float(_mix(step) >> _S11) * _SCALE + _HALF
    return out


@_jit
def _tails(p, flat):
    """AS241's tail formulas where |p| < 1/2 - SPLIT1 (about 15% of the elements): the indices compacted first,
    then log, sqrt and the rational function each in its own loop over them (no branch inside, so the loops
    without a libm call vectorize), and the far tail (r > SPLIT2, p < exp(-25)) by ``ppnd16`` itself.
    Each element gets exactly ``ppnd16``'s operations. Below 256 elements one branching loop is cheaper."""
    if p.shape[0] < 256:
        for i in range(p.shape[0]):
            if abs(p[i]) < 0.5 - SPLIT1:
                v = ppnd16(abs(p[i]))
                flat[i] = v if p[i] > 0.0 else -v
        return
    idx = np.empty(p.shape[0], dtype=np.int64)
    m = 0
    for i in range(p.shape[0]):
        idx[m] = i
        m += abs(p[i]) < 0.5 - SPLIT1
    r = np.empty(m, dtype=np.float64)
    for k in range(m):
        r[k] = math.log(abs(p[idx[k]]))
    for k in range(m):
        r[k] = math.sqrt(-r[k])
    for k in range(m):
        near = r[k] - CONST2
        v = -(_horner8(C, near) / _horner8(D, near))
        i = idx[k]
        flat[i] = v if p[i] > 0.0 else -v
    for k in range(m):
        if r[k] > SPLIT2:
            i = idx[k]
            v = ppnd16(abs(p[i]))
            flat[i] = v if p[i] > 0.0 else -v


@_jit
def _fill_normals(keys, salt, out):
    """Normals into ``out`` (R, n) in passes that LLVM can vectorize. First the hash, in integers only: the
    bits of the float -/+(2^52 + m) (m = min(k, 2^53 - 1 - k) < 2^52, minus for the upper half), so that
    float(m) = |that float| - 2^52 exactly without an int -> float conversion (AVX2 has none for 64 bits).
    Then per element the signed lower-tail probability p (kept for the tails) and the central rational
    function of AS241, then the tail formulas where |p| < 0.075 (``_tails``). Each element gets exactly
    ``ppnd16``'s operations on (m + 1/2) / 2^53."""
    R, n = out.shape
    flat = out.reshape(-1)
    raw = flat.view(np.uint64)
    for r in range(R):
        step = _mix(keys[r] ^ salt)
        row = r * n
        for j in range(n):
            step = step + _GOLDEN
            k = _mix(step) >> _S11
            upper = k >= _MID
            m = _TOP - k if upper else k
            raw[row + j] = (m | _EXP52) | (_U(upper) << _S63)
    p = np.empty(flat.shape[0], dtype=np.float64)
    for i in range(flat.shape[0]):
        f = flat[i]
        pi = (abs(f) - _TWO52) * _SCALE + _HALF
        q = pi - 0.5
        rr = CONST1 - q * q
        v = q * _horner8(A, rr) / _horner8(B, rr)
        p[i] = pi if f > 0.0 else -pi
        flat[i] = v if f > 0.0 else -v
    _tails(p, flat)


@_jit
def _bound_parts(out, bounds, sigma, scale):
    """out[r, part] *= scale_r * sigma / ||out[r, part]|| for every part [bounds[k], bounds[k + 1]). The squares
    are summed in the order j = lo, lo + 1, ... of each row, one column at a time for all rows (independent
    sums side by side instead of one chain of dependent additions per row)."""
    R = out.shape[0]
    factor = np.empty(R, dtype=np.float64)
    for k in range(bounds.shape[0] - 1):
        lo, hi = bounds[k], bounds[k + 1]
        factor[:] = 0.0
        for j in range(lo, hi):
            for r in range(R):
                factor[r] += out[r, j] * out[r, j]
        for r in range(R):
            row = scale[r] if scale.shape[0] > 0 else 1.0
            factor[r] = row * sigma / math.sqrt(factor[r])
        for r in range(R):
            for j in range(lo, hi):
                out[r, j] *= factor[r]


@_jit
def shaped_normals(keys, salt, n, mode, bounds, sigma, scale):
    """(R, n) float64 standard normals, shaped per part [bounds[k], bounds[k + 1]) when mode != RAW.

    BOUNDED: z * (scale_r * sigma / ||z||) per part;  GAUSSIAN: z * (scale_r * (sigma / sqrt(d))) per part.
    ``scale`` (R,) multiplies each row; an empty array means no row scale.
    """
    out = np.empty((keys.shape[0], n), dtype=np.float64)
    _fill_normals(keys, salt, out)
    if mode == BOUNDED:
        _bound_parts(out, bounds, sigma, scale)
    elif mode == GAUSSIAN:
        for r in range(keys.shape[0]):
            row = scale[r] if scale.shape[0] > 0 else 1.0
            for k in range(bounds.shape[0] - 1):
                lo, hi = bounds[k], bounds[k + 1]
                factor = row * (sigma / math.sqrt(hi - lo))
                for j in range(lo, hi):
                    out[r, j] *= factor
    return out
