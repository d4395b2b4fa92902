"""Single-level (L0, L1) zoo with certificates, negative controls, and a frontier certifier.

(L0, L1)-smooth in Hessian form: ||grad2 f(x)|| <= L0 + L1 ||grad f(x)|| for every x.
The constants form a trade-off curve, the frontier L0*(L1) = sup_x (||grad2 f|| - L1 ||grad f||);
from samples, ``frontier`` gives max_i (h_i - L1 g_i), a lower bound on it (docs/background.md section 2;
the Hessian form is ZHSJ's definition, Zhang, He, Sra, Jadbabaie, ICLR 2020).

    name          f(x)                                   certificate (Hessian form, all of the domain)
    cosh          sum (L0/L1^2) cosh(L1 (Rx)_i)          (L0 + alpha omega^2 + alpha omega L1, L1)   (landscape.py)
                    + alpha cos(omega (Rx)_i)
    power         ||x||^p, p even                        (p ((p - 2)/L1)^(p-2), L1): the exact frontier, since
                                                         ||H|| = p(p-1) r^(p-2), ||g|| = p r^(p-1) and
                                                         max_r p r^(p-2) (p - 1 - L1 r) is at r = (p - 2)/L1
    double_well   sum t_i^4/4 - t_i^2/2                  exact frontier max_t |3t^2 - 1| - L1 |t^3 - t| by
                                                         enumerating the critical points of its cubic pieces
    radial_cosh   (a/b^2) cosh(b ||x||)                  (a, b): eigenvalues a cosh(b r) (radial) and
                                                         (a/b) sinh(b r)/r <= a cosh(b r) (tangential),
                                                         ||g|| = (a/b) sinh(b r), cosh <= 1 + sinh
    logistic      sum log(1 + exp(-t_i))                 (0, 1): phi'' = s(1 - s) <= 1 - s = |phi'|, s = sigmoid
    logsumexp     log sum exp(x_i)                       (1/2, 0): bounded smoothness (a control)
  negative controls (no (L0, L1) for any constants):
    x2y2          x^2 y^2 (d = 2)                        grad = 0 on the axis x = 0 while ||H|| = 2 y^2
    exp_square    sum exp(t_i^2)                         phi''/|phi'| = (1 + 2t^2)/|t| -> infinity
    inverse       sum 1/t_i on t > 0                     phi'' = 2 |phi'|^(3/2): (rho, L0, L_rho) = (3/2, 0, 2)
Separable sums keep the 1-D constants: the Hessian is diagonal and ||.||_inf <= ||.||_2.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ubo.synthetic.landscape import CoshLandscape, random_orthogonal
from ubo.synthetic.problem import check_number, check_positive_int

Tensor = torch.Tensor


class ZooFunction:
    """A batched single-level function: value (R,), grad (R, d), hessian (R, d, d) of x (R, d)."""

    name = "function"
    negative_control = False
    certified: tuple[float, float] | None = None  # (L0, L1) in Hessian form, or None

    def __init__(self, dim: int = 2):
        self.dim = check_positive_int("dim", dim)

    def value(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def grad(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def hessian(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def box(self, scale: float) -> tuple[float, float]:
        """Per-coordinate sampling interval of size ``scale`` inside the domain."""
        return -scale, scale

    def critical_points(self, scale: float) -> Tensor:
        """(k, d) points in the box where the frontier is attained or approached (seeds for the search)."""
        return torch.zeros(1, self.dim, dtype=torch.float64)

    def norms(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(||grad2 f(x)||_2, ||grad f(x)||) per row."""
        return torch.linalg.matrix_norm(self.hessian(x), ord=2), self.grad(x).norm(dim=1)


def _separable_hessian(d2: Tensor) -> Tensor:
    return torch.diag_embed(d2)


class Cosh(ZooFunction):
    name = "cosh"

    def __init__(self, dim: int = 2, L0: float = 1.0, L1: float = 1.0, alpha: float = 0.5, omega: float = 2.0,
                 rotate: bool = True, instance_seed: int = 0):
        super().__init__(dim)
        check_number("L0", L0, 0, low_open=True)
        check_number("L1", L1, 0)
        check_number("alpha", alpha, 0)
        check_number("omega", omega, 0)
        rotation = random_orthogonal(dim, torch.Generator().manual_seed(instance_seed)) if rotate else None
        self.landscape = CoshLandscape(dim, L0, L1, alpha, omega, rotation)
        self.certified = self.landscape.certified

    def value(self, x):
        return self.landscape.value(x)

    def grad(self, x):
        return self.landscape.grad(x)

    def hessian(self, x):
        return self.landscape.hessian(x)


class Power(ZooFunction):
    name = "power"

    def __init__(self, dim: int = 2, p: int = 4, L1: float = 1.0):
        super().__init__(dim)
        if isinstance(p, bool) or not isinstance(p, int) or p < 2 or p % 2:
            raise ValueError(f"p must be an even int >= 2, got {p!r}")
        self.p = p
        self.L1 = check_number("L1", L1, 0, low_open=p > 2)
        self.certified = (self.frontier_exact(self.L1), self.L1)

    def frontier_exact(self, L1: float) -> float:
        p = self.p
        return 2.0 if p == 2 else p * ((p - 2) / L1) ** (p - 2)

    def value(self, x):
        return (x * x).sum(dim=1) ** (self.p // 2)

    def grad(self, x):
        r2 = (x * x).sum(dim=1, keepdim=True)
        return self.p * r2 ** (self.p // 2 - 1) * x

    def hessian(self, x):
        p, r2 = self.p, (x * x).sum(dim=1)
        eye = torch.eye(self.dim, dtype=x.dtype, device=x.device)
        hess = (p * r2 ** (p // 2 - 1))[:, None, None] * eye
        if p > 2:
            hess = hess + (p * (p - 2) * r2 ** (p // 2 - 2))[:, None, None] * x[:, :, None] * x[:, None, :]
        return hess

    def critical_points(self, scale):
        r = 0.0 if self.p == 2 else min((self.p - 2) / self.L1, scale)
        point = torch.zeros(1, self.dim, dtype=torch.float64)
        point[0, 0] = r
        return point


def double_well_frontier(L1: float) -> float:
    """Exact max_t |3t^2 - 1| - L1 |t^3 - t| (the frontier of t^4/4 - t^2/2), L1 > 0.

    On t >= 0 (the function is even) the signs of 3t^2 - 1 and t^3 - t are constant on [0, 1/sqrt 3],
    [1/sqrt 3, 1] and [1, inf); each piece is a cubic whose maximum is at an end or at a root of its
    derivative 6 s1 t - L1 s2 (3t^2 - 1).
    """
    check_number("L1", L1, 0, low_open=True)
    cut = 1.0 / math.sqrt(3.0)
    pieces = ((0.0, cut, -1, -1), (cut, 1.0, 1, -1), (1.0, math.inf, 1, 1))
    candidates = [0.0, cut, 1.0]
    for low, high, s1, s2 in pieces:
        for root in np.roots([-3.0 * L1 * s2, 6.0 * s1, L1 * s2]):
            if abs(root.imag) < 1e-12 and low <= root.real <= high:
                candidates.append(float(root.real))
    return max(abs(3 * t * t - 1) - L1 * abs(t**3 - t) for t in candidates)


class DoubleWell(ZooFunction):
    name = "double_well"

    def __init__(self, dim: int = 2, L1: float = 1.0):
        super().__init__(dim)
        self.L1 = check_number("L1", L1, 0, low_open=True)
        self.certified = (double_well_frontier(self.L1), self.L1)

    def value(self, x):
        return (0.25 * x**4 - 0.5 * x**2).sum(dim=1)

    def grad(self, x):
        return x**3 - x

    def hessian(self, x):
        return _separable_hessian(3 * x * x - 1)

    def critical_points(self, scale):
        """Every coordinate at the maximiser of the 1-D frontier (found on a fine grid)."""
        t = torch.linspace(0, max(scale, 3.0), 200_001, dtype=torch.float64)
        gap = (3 * t * t - 1).abs() - self.L1 * (t**3 - t).abs()
        return torch.full((1, self.dim), float(t[int(gap.argmax())]), dtype=torch.float64)


class RadialCosh(ZooFunction):
    name = "radial_cosh"

    def __init__(self, dim: int = 2, a: float = 1.0, b: float = 1.0):
        super().__init__(dim)
        self.a = check_number("a", a, 0, low_open=True)
        self.b = check_number("b", b, 0, low_open=True)
        self.certified = (self.a, self.b)

    def _r(self, x):
        return x.norm(dim=1)

    def value(self, x):
        return (self.a / self.b**2) * torch.cosh(self.b * self._r(x))

    def _sinhc(self, r):
        """sinh(b r) / (b r), with its limit 1 at r = 0."""
        br = self.b * r
        safe = torch.where(br > 1e-8, br, torch.ones_like(br))
        return torch.where(br > 1e-8, torch.sinh(safe) / safe, 1.0 + br * br / 6.0)

    def grad(self, x):
        return (self.a * self._sinhc(self._r(x)))[:, None] * x

    def hessian(self, x):
        r = self._r(x)
        tangential = self.a * self._sinhc(r)
        radial = self.a * torch.cosh(self.b * r)
        unit = x / torch.where(r > 0, r, torch.ones_like(r))[:, None]
        eye = torch.eye(self.dim, dtype=x.dtype, device=x.device)
        outer = unit[:, :, None] * unit[:, None, :]
        return tangential[:, None, None] * eye + (radial - tangential)[:, None, None] * outer


class Logistic(ZooFunction):
    name = "logistic"
    certified = (0.0, 1.0)

    def value(self, x):
        return torch.nn.functional.softplus(-x).sum(dim=1)

    def grad(self, x):
        return -torch.sigmoid(-x)

    def hessian(self, x):
        s = torch.sigmoid(x)
        return _separable_hessian(s * (1 - s))


class LogSumExp(ZooFunction):
    name = "logsumexp"
    certified = (0.5, 0.0)

    def value(self, x):
        return torch.logsumexp(x, dim=1)

    def grad(self, x):
        return torch.softmax(x, dim=1)

    def hessian(self, x):
        p = torch.softmax(x, dim=1)
        return torch.diag_embed(p) - p[:, :, None] * p[:, None, :]


class XSquaredYSquared(ZooFunction):
    name = "x2y2"
    negative_control = True

    def __init__(self):
        super().__init__(2)

    def value(self, x):
        return (x[:, 0] * x[:, 1]) ** 2

    def grad(self, x):
        a, b = x[:, 0], x[:, 1]
        return torch.stack((2 * a * b * b, 2 * a * a * b), dim=1)

    def hessian(self, x):
        a, b = x[:, 0], x[:, 1]
        row0 = torch.stack((2 * b * b, 4 * a * b), dim=1)
        row1 = torch.stack((4 * a * b, 2 * a * a), dim=1)
        return torch.stack((row0, row1), dim=1)

    def critical_points(self, scale):
        """The stationary axis x = 0, at its far ends: ||H|| = 2 scale^2, zero gradient."""
        return torch.tensor([[0.0, scale], [0.0, -scale], [scale, 0.0]], dtype=torch.float64)


class ExpSquare(ZooFunction):
    name = "exp_square"
    negative_control = True

    def value(self, x):
        return torch.exp(x * x).sum(dim=1)

    def grad(self, x):
        return 2 * x * torch.exp(x * x)

    def hessian(self, x):
        return _separable_hessian((2 + 4 * x * x) * torch.exp(x * x))

    def critical_points(self, scale):
        point = torch.zeros(1, self.dim, dtype=torch.float64)
        point[0, 0] = scale
        return point


class Inverse(ZooFunction):
    """sum 1/t_i on the positive orthant; sampled on [1/scale, scale] (scale >= 1)."""

    name = "inverse"
    negative_control = True
    rho_certified = (1.5, 0.0, 2.0)  # (rho, L0, L_rho): ||H|| <= L0 + L_rho ||g||^rho

    def value(self, x):
        return (1.0 / x).sum(dim=1)

    def grad(self, x):
        return -1.0 / (x * x)

    def hessian(self, x):
        return _separable_hessian(2.0 / x**3)

    def box(self, scale):
        return 1.0 / max(scale, 1.0), max(scale, 1.0)

    def critical_points(self, scale):
        """All coordinates at the box's edge near 0, where phi'' / |phi'| = 2/t is largest."""
        return torch.full((1, self.dim), self.box(scale)[0], dtype=torch.float64)


_ZOO = {
    "cosh": (Cosh, "separable (rotated, optionally nonconvex) cosh landscape: (L0 + a w^2 + a w L1, L1)"),
    "power": (Power, "||x||^p, p even: exact frontier p ((p - 2)/L1)^(p - 2) (16/L1^2 for p = 4)"),
    "double_well": (DoubleWell, "sum t^4/4 - t^2/2: nonconvex, exact frontier by piecewise enumeration"),
    "radial_cosh": (RadialCosh, "(a/b^2) cosh(b ||x||): non-separable, (a, b) tight"),
    "logistic": (Logistic, "sum log(1 + e^-t): (0, 1)"),
    "logsumexp": (LogSumExp, "log sum exp: bounded smoothness (1/2, 0), a control"),
    "x2y2": (XSquaredYSquared, "negative control x^2 y^2: zero gradient, Hessian 2 y^2"),
    "exp_square": (ExpSquare, "negative control sum exp(t^2): grows faster than any exponential"),
    "inverse": (Inverse, "negative control sum 1/t on t > 0: (rho = 3/2, L0 = 0, L_rho = 2)"),
}


def make_function(name: str, **params) -> ZooFunction:
    """Build a zoo function by name; unknown names or parameters raise ValueError."""
    if name not in _ZOO:
        raise ValueError(f"function name must be one of {sorted(_ZOO)}, got {name!r}")
    try:
        return _ZOO[name][0](**params)
    except TypeError as err:
        raise ValueError(f"bad parameter for function {name!r}: {err}") from None


def list_functions() -> dict[str, str]:
    """{name: one-line summary} of every zoo function."""
    return {name: summary for name, (_, summary) in sorted(_ZOO.items())}


# ---- frontier and certifier -----------------------------------------------------------
def frontier(hess_norms, grad_norms, L1) -> Tensor:
    """L0*(L1) = max_i (h_i - L1 g_i), for a scalar L1 or each entry of a 1-D L1 (Pareto frontier)."""
    h = torch.as_tensor(hess_norms, dtype=torch.float64).reshape(-1)
    g = torch.as_tensor(grad_norms, dtype=torch.float64).reshape(-1)
    if h.shape != g.shape or h.numel() == 0:
        raise ValueError(f"hess_norms and grad_norms must be non-empty and of equal size, got {h.numel()}, {g.numel()}")
    slopes = torch.as_tensor(L1, dtype=torch.float64)
    if bool((slopes < 0).any()):
        raise ValueError(f"L1 must be >= 0, got {slopes.tolist()}")
    return (h[None, :] - slopes.reshape(-1, 1) * g[None, :]).max(dim=1).values.reshape(slopes.shape)


def search_frontier(fn: ZooFunction, L1: float, scale: float, samples: int = 2000, rounds: int = 20,
                    seed: int = 0) -> float:
    """Largest h - L1 g found in the box of size ``scale``: uniform samples plus the function's critical
    points, then ``rounds`` of local random refinement around the best 16 (a lower bound on L0*(L1))."""
    check_number("scale", scale, 0, low_open=True)
    gen = torch.Generator().manual_seed(seed)
    low, high = fn.box(scale)
    x = low + (high - low) * torch.rand(samples, fn.dim, generator=gen, dtype=torch.float64)
    x = torch.cat((x, fn.critical_points(scale).clamp(low, high)))

    def gap(points):
        h, g = fn.norms(points)
        return h - L1 * g

    best = gap(x)
    radius = 0.1 * (high - low)
    for _ in range(rounds):
        top = x[best.topk(min(16, x.shape[0])).indices]
        trial = (top.repeat(8, 1) + radius * torch.randn(8 * top.shape[0], fn.dim, generator=gen,
                                                         dtype=torch.float64)).clamp(low, high)
        x, best = torch.cat((x, trial)), torch.cat((best, gap(trial)))
        radius *= 0.7
    return float(best[torch.isfinite(best)].max())


def frontier_growth(fn: ZooFunction, L1: float, scales, samples: int = 2000, seed: int = 0) -> list[float]:
    """The searched frontier at slope L1 for each box size: unbounded growth rejects (L0, L1) at that L1."""
    return [search_frontier(fn, L1, float(s), samples=samples, seed=seed) for s in scales]
