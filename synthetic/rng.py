"""Counter-based random numbers: run r of a batch draws exactly what it would draw alone.

Every number is a pure function of (seed, run id, call counter, sub-stream, element):

    u = mix64(base(seed, r, call, sub) + (j + 1) * GOLDEN)  ->  53-bit uniform in (0, 1)

with ``mix64`` the SplitMix64 finaliser (Steele, Lea, Flood 2014). Normals invert the lower tail of
the same 53 bits k = bits >> 11 with Wichura's AS241 (Applied Statistics 37(3), 1988):

    m = min(k, 2^53 - 1 - k),   z = -/+ ppnd16((m + 1/2) / 2^53)   (minus when k < 2^52)

(an exactly symmetric law, |z| <= 8.3), ppnd16 being AS241 in fixed float64 operations with the generator's own
natural log ``log_pos`` (within one ulp; synthetic.fused_rng states the definition). Nothing depends on the
batch size or on which other runs share the batch, so a batched run of R seeds reproduces
R separate runs bit for bit, and rejection samplers stay exact: attempt k of element j
reads its own sub-stream, however many attempts the other elements need.

Two backends compute the same definitions. On CPU in float64, when numba is installed, each draw is
one fused kernel (synthetic.fused_rng: hash, inversion and noise shaping in one pass). Otherwise torch
operations in int64 with two's-complement wrap-around (checked against a NumPy uint64 reference in
the tests) run unchanged on CPU and GPU. Bits, uniforms and normals agree bit for bit across the backends
on CPU (the same log_pos, correctly rounded sqrt and division, no fused multiply-add); the shaped noise to
round-off (torch's norm sums in its own order). Within one backend every guarantee above holds bit for bit.
``set_backend("torch")`` or UBO_RNG_BACKEND=torch forces the torch path.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from ubo.synthetic import fused_rng

_MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _signed(value: int) -> int:
    """Map an unsigned 64-bit constant onto the int64 with the same bits."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN_S, _M1_S, _M2_S = _signed(GOLDEN), _signed(_M1), _signed(_M2)


def _shr(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's >> is arithmetic): a new tensor."""
    out = z >> s
    out &= (1 << (64 - s)) - 1
    return out


def _mix64_(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser applied in place to an int64 tensor that the caller owns."""
    for shift, multiplier in ((30, _M1_S), (27, _M2_S)):
        z ^= _shr(z, shift)
        z *= multiplier
    z ^= _shr(z, 31)
    return z


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser on int64 tensors: a bijective avalanche mix of 64 bits."""
    return _mix64_(z.clone())


def mix64_int(value: int) -> int:
    """The same finaliser on a Python int (used for scalar keys)."""
    z = value & _MASK64
    z = ((z ^ (z >> 30)) * _M1) & _MASK64
    z = ((z ^ (z >> 27)) * _M2) & _MASK64
    return _signed(z ^ (z >> 31))


def run_keys(seed: int, run_ids: torch.Tensor) -> torch.Tensor:
    """One 64-bit key per run, a function of (seed, run id) only."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed_key = mix64_int(seed * GOLDEN + 0x1234567)
    return mix64(run_ids.to(torch.int64) * _GOLDEN_S + seed_key)


_OFFSET_CACHE: dict = {}


def _offsets(n: int, device: torch.device) -> torch.Tensor:
    """(j + 1) * GOLDEN for j < n, cached per (n, device)."""
    key = (n, str(device))
    if key not in _OFFSET_CACHE:
        _OFFSET_CACHE[key] = torch.arange(1, n + 1, device=device, dtype=torch.int64) * _GOLDEN_S
    return _OFFSET_CACHE[key]


_BACKENDS = ("numba", "torch")
_backend = "numba" if fused_rng.AVAILABLE and os.environ.get("UBO_RNG_BACKEND", "numba") != "torch" else "torch"


def set_backend(name: str) -> str:
    """Select the generator's backend ("numba" or "torch"); returns the previous one."""
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {name!r}")
    if name == "numba" and not fused_rng.AVAILABLE:
        raise ValueError("backend 'numba' needs the numba package (pip install numba)")
    previous, _backend = _backend, name
    return previous


def get_backend() -> str:
    return _backend


def _horner(coefficients, r: torch.Tensor) -> torch.Tensor:
    """The polynomial of fused_rng._horner8, each product and sum rounded on its own (no FMA)."""
    acc = torch.full_like(r, coefficients[7])
    for c in coefficients[6::-1]:
        acc.mul_(r).add_(c)
    return acc


def log_pos(x: torch.Tensor) -> torch.Tensor:
    """fused_rng.log_pos on a float64 tensor of positive normal numbers: the same bit operations and the same
    float operations in the same order, each rounded on its own, so the two agree bit for bit."""
    F = fused_rng
    hx = x.view(torch.int64)  # x > 0: the sign bit is 0, so int64 shifts and masks act as on uint64
    mant = hx & ((1 << 52) - 1)
    big = (mant >= 0x6A09E667F3BCD).to(torch.int64)  # f >= sqrt(2): use f / 2 and k + 1
    f = (mant | ((1023 - big) << 52)).view(torch.float64)
    k = ((hx >> 52) + big).to(torch.float64) - 1023.0  # exact, like the kernel's (2^52 + e) - (2^52 + 1023)
    g = f - 1.0
    s = g / (2.0 + g)
    z = s * s
    big_r = z * _horner(F.LOG_P, z)
    h = 0.5 * g * g
    return k * F.LN2_HI - ((h - (s * (h + big_r) + k * F.LN2_LO)) - g)


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    """The correctly rounded square root (IEEE 754). torch's CPU sqrt on float64 is not always (1178 of 100,000
    random points in [0, 30] were one ulp off, torch 2.13 with AVX2), so CPU tensors go through NumPy, whose
    sqrt is the processor's. CUDA's double-precision sqrt is correctly rounded by default (its documentation;
    not checked here, without a GPU)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.sqrt(x.detach().contiguous().numpy()))
    return torch.sqrt(x)


def ppnd16(p: torch.Tensor) -> torch.Tensor:
    """AS241 on a float64 tensor of p in (0, 1/2]: the same operations as fused_rng.ppnd16 on that range."""
    F = fused_rng
    q = p - 0.5
    r = F.CONST1 - q * q
    central = q * _horner(F.A, r) / _horner(F.B, r)
    r = _sqrt(-log_pos(p))
    near = r - F.CONST2
    far = r - F.SPLIT2
    tail = torch.where(r <= F.SPLIT2, _horner(F.C, near) / _horner(F.D, near), _horner(F.E, far) / _horner(F.F, far))
    return torch.where(q.abs() <= F.SPLIT1, central, -tail)


def normals_from_bits(b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The standard normals of int64 random bits (module docstring), as torch operations."""
    k = _shr(b, 11)
    upper = k >= 1 << 52
    m = torch.where(upper, ((1 << 53) - 1) - k, k)
    z = ppnd16(m.to(torch.float64).mul_(2.0**-53).add_(2.0**-54))
    return torch.where(upper, -z, z).to(dtype)


_BOUNDS: dict = {}  # part widths -> part boundaries, for the fused kernel
_NO_SCALE = np.empty(0)  # no row scale (the kernel reads 1)


class Draw:
    """The random numbers of one oracle call: independent sub-streams per purpose."""

    def __init__(self, keys: torch.Tensor, call: int, dtype: torch.dtype, host_keys: np.ndarray | None = None):
        self.keys = keys
        self.call = call
        self.level_call: int | None = None  # the call's index among its level's calls, set by the Oracle
        self.dtype = dtype
        if host_keys is None and keys.device.type == "cpu" and dtype == torch.float64:
            host_keys = keys.numpy().view(np.uint64)
        self._host_keys = host_keys  # the keys as a NumPy uint64 view when the fused kernels apply

    def _salt(self, sub: int) -> int:
        """The salt of sub-stream ``sub`` of this call (fused_rng.draw_salt computes the same inside its kernels)."""
        return mix64_int(self.call * fused_rng.SALT_CALL + sub * fused_rng.SALT_SUB + 1)

    def _fused(self) -> bool:
        return _backend == "numba" and self._host_keys is not None

    def bits(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) int64 of 64 random bits each, for sub-stream ``sub``."""
        if self._fused():
            return torch.from_numpy(fused_rng.bits(self._host_keys, self.call, sub, n).view(np.int64))
        base = mix64(self.keys ^ self._salt(sub))
        return _mix64_(base[:, None] + _offsets(n, self.keys.device)[None, :])

    def uniform(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) uniforms (top 53 bits + 1/2) / 2^53, in (0, 1) up to the rounding of the top one to 1."""
        if self._fused():
            return torch.from_numpy(fused_rng.uniforms(self._host_keys, self.call, sub, n))
        u = _shr(self.bits(n, sub), 11).to(self.dtype)
        return u.mul_(2.0**-53).add_(2.0**-54)

    def normal(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) standard normals by inversion of the lower tail with AS241 (module docstring)."""
        return self.shaped_normal((n,), sub)

    def shaped_normal(self, dims: tuple[int, ...], sub: int = 0, mode: int = fused_rng.RAW,
                      sigma: float = 1.0, scale: torch.Tensor | None = None) -> torch.Tensor:
        """(R, sum(dims)) normals, each part of width dims[k] shaped by ``mode`` (fused_rng.RAW, BOUNDED,
        GAUSSIAN): bounded z * (scale sigma / ||z||), gaussian z * (scale sigma / sqrt(d)); scale (R,) or None."""
        total = sum(dims)
        if self._fused():
            dims = tuple(dims)
            bounds = _BOUNDS.get(dims)
            if bounds is None:
                bounds = _BOUNDS[dims] = np.cumsum((0,) + dims)
            rows = _NO_SCALE if scale is None else (scale.detach() if scale.requires_grad else scale).numpy()
            return torch.from_numpy(fused_rng.shaped_normals(self._host_keys, self.call, sub, total, mode, bounds,
                                                             float(sigma), rows))
        base = mix64(self.keys ^ self._salt(sub))
        z = normals_from_bits(_mix64_(base[:, None] + _offsets(total, self.keys.device)[None, :]), self.dtype)
        if mode == fused_rng.RAW:
            return z
        row = 1.0 if scale is None else scale[:, None]
        parts = []
        for part in z.split(dims, dim=1):
            if mode == fused_rng.BOUNDED:
                parts.append(part * (row * sigma / part.norm(dim=1, keepdim=True)))
            else:
                parts.append(part * (row * (sigma / math.sqrt(part.shape[1]))))
        return torch.cat(parts, dim=1)

    def integers(self, high: int, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) integers uniform on {0, ..., high - 1} (with replacement)."""
        return torch.clamp((self.uniform(n, sub) * high).to(torch.int64), max=high - 1)

    def gamma(self, shape: float, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) Gamma(shape, 1) by Marsaglia-Tsang; exact, attempt k on its own sub-streams.

        For shape < 1 uses Gamma(a) = Gamma(a + 1) * U^(1/a).
        """
        a = shape + 1.0 if shape < 1.0 else shape
        d = a - 1.0 / 3.0
        c = 1.0 / math.sqrt(9.0 * d)
        out = torch.full((self.keys.shape[0], n), float("nan"), dtype=self.dtype, device=self.keys.device)
        pending = torch.ones_like(out, dtype=torch.bool)
        stride = 1000 * (sub + 1)
        attempt = 0
        while bool(pending.any()):
            x = self.normal(n, stride + 2 * attempt)
            u = self.uniform(n, stride + 2 * attempt + 1)
            v = (1.0 + c * x) ** 3
            ok = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * torch.log(v.clamp_min(1e-300)))
            take = ok & pending
            out = torch.where(take, d * v, out)
            pending = pending & ~ok
            attempt += 1
        if shape < 1.0:  # U^(1/a) as exp(log U / a): torch's pow rounds differently with the tensor size
            out = out * torch.exp(torch.log(self.uniform(n, stride - 1)) / shape)
        return out


class CounterRNG:
    """Per-run reproducible generator: ``next()`` hands out the Draw of the next oracle call."""

    def __init__(self, seed: int, run_ids: torch.Tensor, dtype: torch.dtype = torch.float64):
        self.keys = run_keys(seed, run_ids)
        self.dtype = dtype
        self.calls = 0
        self._host_keys = Draw(self.keys, 0, dtype)._host_keys

    def next(self) -> Draw:
        draw = Draw(self.keys, self.calls, self.dtype, self._host_keys)
        self.calls += 1
        return draw
