"""Counter-based random numbers: run r of a batch draws exactly what it would draw alone.

Every number is a pure function of (seed, run id, call counter, sub-stream, element):

    u = mix64(base(seed, r, call, sub) + (j + 1) * GOLDEN)  ->  53-bit uniform in (0, 1)

with ``mix64`` the SplitMix64 finaliser (Steele, Lea, Flood 2014). A normal is the ziggurat of the element's
word w (Marsaglia and Tsang 2000, 256 layers; synthetic.fused_rng states the definition): its first attempt
reads w alone (98.5% of elements end there, exactly symmetric: the sign is a bit of its own), later attempts
read mix64(w + c RETRY), c = 1, 2, .... Nothing depends on the batch size or on which other runs
share the batch, so a batched run of R seeds reproduces R separate runs bit for bit, and rejection samplers
stay exact: attempt k of element j reads its own words or sub-stream, however many attempts the other
elements need.

Two backends compute the same definitions. On CPU in float64, when numba is installed, each draw is
one fused kernel (synthetic.fused_rng: hash, ziggurat and noise shaping in one pass). Otherwise torch
operations in int64 with two's-complement wrap-around (checked against a NumPy uint64 reference in
the tests) run unchanged on CPU and GPU. Bits, uniforms and normals agree bit for bit across the backends
on CPU (the same tables, the same log_pos, correctly rounded division, no fused multiply-add); the shaped noise to
round-off (torch's norm sums in its own order). Within one backend every guarantee above holds bit for bit.
``set_backend("torch")`` or UBO_RNG_BACKEND=torch forces the torch path.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from ubo.synthetic import fused_rng, fused_threads

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


_TABLES: dict = {}  # (device, the tables' ids) -> the ziggurat's tables as tensors


def _tables(device: torch.device) -> tuple[torch.Tensor, ...]:
    """fused_rng's (X, X_{i+1} / X_i, F, F_{i+1} - F_i) on ``device``, read at call time (a test may swap them)."""
    F = fused_rng
    key = (str(device), id(F.ZIG_X), id(F.ZIG_RATIO), id(F.ZIG_F), id(F.ZIG_RISE))
    if key not in _TABLES:
        _TABLES[key] = tuple(torch.from_numpy(t).to(device) for t in (F.ZIG_X, F.ZIG_RATIO, F.ZIG_F, F.ZIG_RISE))
    return _TABLES[key]


def _magnitude(w: torch.Tensor) -> torch.Tensor:
    """(m + 1/2) / 2^52 with m = bits 11..62 of w (fused_rng._magnitude; the conversion is exact, m < 2^52)."""
    return (_shr(w, 11) & ((1 << 52) - 1)).to(torch.float64).add_(0.5).mul_(2.0**-52)


def _open_unit(w: torch.Tensor) -> torch.Tensor:
    """((w >> 11) + 1/2) / 2^53 in (0, 1) (fused_rng._open_unit)."""
    return _shr(w, 11).to(torch.float64).mul_(2.0**-53).add_(2.0**-54)


def _word(w: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mix64(w + c RETRY): an element's later words."""
    return _mix64_(w + c * _signed(fused_rng.RETRY))


def _ziggurat_rest(w: torch.Tensor, tables) -> torch.Tensor:
    """fused_rng.ziggurat on a 1-D tensor of words whose first attempt was rejected, all of them at once: each
    round every pending element takes its next step (an attempt, a wedge test, or a trial of the tail),
    reading its own words in the same order as the scalar definition, so the results are the same bits. (Every
    round computes the wedge test and the tail trial for all pending elements and keeps what applies: no
    synchronisation beyond the indexing, which matters on a GPU.)"""
    x_tab, ratio, heights, rise = tables
    r = fused_rng.ZIG_R_FLOAT
    out = torch.empty(w.shape, dtype=torch.float64, device=w.device)
    todo = torch.arange(w.numel(), device=w.device)
    word, c = w.clone(), torch.zeros_like(w)
    in_tail = torch.zeros(w.shape, dtype=torch.bool, device=w.device)
    while todo.numel():
        ww, wd, cc, tail = w[todo], word[todo], c[todo], in_tail[todo]
        i = wd & (fused_rng.ZIG_LAYERS - 1)
        a = _magnitude(wd)
        x = a * x_tab[i]
        rect = ~tail & (a < ratio[i])
        enter = ~tail & ~rect & (i == 0)
        wedge = ~tail & ~rect & (i != 0)
        cc = torch.where(wedge, cc + 1, cc)  # one more word: a height in layer i, against f(x) as logs
        under = wedge & (log_pos(heights[i] + _open_unit(_word(ww, cc)) * rise[i]) < -0.5 * x * x)
        retry = wedge & ~under
        cc = torch.where(retry, cc + 1, cc)
        wd = torch.where(retry, _word(ww, cc), wd)
        t = -log_pos(_open_unit(_word(ww, cc + 1))) / r  # one trial of the tail from two more words
        y = -log_pos(_open_unit(_word(ww, cc + 2)))
        cc = torch.where(tail, cc + 2, cc)
        beyond = tail & (y + y > t * t)
        done = rect | under | beyond
        value = torch.where(beyond, r + t, x)
        out[todo[done]] = torch.where(wd < 0, -value, value)[done]
        word[todo], c[todo], in_tail[todo] = wd, cc, tail | enter
        todo = todo[~done]
    return out


def normals_from_bits(w: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The standard normals of int64 words by the ziggurat (fused_rng's module docstring), as torch operations:
    the first attempt of every element at once, the rejected ones (1.5%) by ``_ziggurat_rest``."""
    tables = _tables(w.device)
    x_tab, ratio = tables[0], tables[1]
    i = w & (fused_rng.ZIG_LAYERS - 1)
    a = _magnitude(w)
    z = a * x_tab[i]
    z = torch.where(w < 0, -z, z)
    rejected = ~(a < ratio[i])
    if bool(rejected.any()):  # each with the sign of its accepted attempt's word
        z[rejected] = _ziggurat_rest(w[rejected], tables)
    return z.to(dtype)


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

    def _kernel(self, serial, split, ns: float, sub: int, n: int, *rest) -> np.ndarray:
        """serial(host keys, call, sub, n, *rest), a fused kernel over the R runs and n elements of sub-stream
        ``sub`` at about ``ns`` nanoseconds an element, or its ``split`` twin over threads when that pays
        (synthetic.fused_threads; the same bits)."""
        runs = len(self._host_keys)
        return fused_threads.call(serial, split, runs, runs * n * ns, self._host_keys, self.call, sub, n, *rest)

    def bits(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) int64 of 64 random bits each, for sub-stream ``sub``."""
        if self._fused():
            words = self._kernel(fused_rng.bits, fused_rng.bits_split, fused_threads.NS_WORD, sub, n)
            return torch.from_numpy(words.view(np.int64))
        base = mix64(self.keys ^ self._salt(sub))
        return _mix64_(base[:, None] + _offsets(n, self.keys.device)[None, :])

    def uniform(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) uniforms (top 53 bits + 1/2) / 2^53, in (0, 1) up to the rounding of the top one to 1."""
        if self._fused():
            return torch.from_numpy(self._kernel(fused_rng.uniforms, fused_rng.uniforms_split, fused_threads.NS_WORD,
                                                 sub, n))
        u = _shr(self.bits(n, sub), 11).to(self.dtype)
        return u.mul_(2.0**-53).add_(2.0**-54)

    def normal(self, n: int, sub: int = 0) -> torch.Tensor:
        """(R, n) standard normals by the ziggurat (module docstring)."""
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
            return torch.from_numpy(self._kernel(fused_rng.shaped_normals, fused_rng.shaped_normals_split,
                                                 fused_threads.NS_NORMAL, sub, total, mode, bounds, float(sigma), rows))
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
