"""Counter-based random numbers: run r of a batch draws exactly what it would draw alone.

Every number is a pure function of (seed, run id, call counter, sub-stream, element):

    u = mix64(base(seed, r, call, sub) + (j + 1) * GOLDEN)  ->  53-bit uniform in (0, 1)

with ``mix64`` the SplitMix64 finaliser (Steele, Lea, Flood 2014). Nothing depends on the
batch size or on which other runs share the batch, so a batched run of R seeds reproduces
R separate runs bit for bit, and rejection samplers stay exact: attempt k of element j
reads its own sub-stream, however many attempts the other elements need.

All arithmetic is int64 with two's-complement wrap-around (checked against a NumPy uint64
reference in the tests), so it runs unchanged on CPU and GPU.
"""

from __future__ import annotations

import math

import torch

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


class Draw:
    """The random numbers of one oracle call: independent sub-streams per purpose."""

    def __init__(self, keys: torch.Tensor, call: int, dtype: torch.dtype):
        self.keys = keys
        self.call = call
        self.dtype = dtype

    def bits(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) int64 of 64 random bits each, for sub-stream ``sub``."""
        salt = mix64_int(self.call * 0x2545F4914F6CDD1D + sub * 0x632BE59BD9B4E019 + 1)
        base = mix64(self.keys ^ salt)
        return _mix64_(base[:, None] + _offsets(n, self.keys.device)[None, :])

    def uniform(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) uniforms in the open interval (0, 1): (top 53 bits + 1/2) / 2^53."""
        u = _shr(self.bits(n, sub), 11).to(self.dtype)
        return u.mul_(2.0**-53).add_(2.0**-54)

    def normal(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) standard normals by inversion: sqrt(2) erfinv(2u - 1).

        2u - 1 is exact in float64 for the 53-bit uniforms, and torch's erfinv runs the same scalar
        code whatever the tensor size, so the result is batch-invariant bit for bit; |z| <= 8.3.
        """
        return torch.erfinv(self.uniform(n, sub).mul_(2.0).sub_(1.0)).mul_(math.sqrt(2.0))

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

    def next(self) -> Draw:
        draw = Draw(self.keys, self.calls, self.dtype)
        self.calls += 1
        return draw
