"""The bilevel problem protocol shared by synthetic families and realistic tasks.

    min_x Phi(x) = f(x, y*(x)),   y*(x) = argmin_y g(x, y),   g(x, .) mu-strongly convex
    grad Phi(x) = grad_x f - grad2_xy g z*,   z*(x) = [grad2_yy g]^-1 grad_y f   at y = y*(x)

Every method is batched over a leading run dimension: x has shape (R, dim_x), y and v shape
(R, dim_y); scalar functions return shape (R,). A problem owns all structure (parameters,
data, sampling, noise, ground truth); algorithms only see the counted ``Oracle`` built by
``problem.oracle(...)``.

Stochastic realisations (``sample_*``) take a ``Draw`` (synthetic.rng) so that run r's samples
depend on (seed, r, call) only. Each ``sample_*`` must be a pure function of its points and the
draw (no state kept between calls): the same draw at two points is then the same sample (the same
minibatch, the same noise realisation), which is how the oracle evaluates one sample at two points
(``Oracle.recording`` / ``Oracle.replaying``, for STORM-type estimators). The default realisations add the problem's noise laws to the
exact derivatives; finite-sum families override them with minibatch sums.
"""

from __future__ import annotations

import inspect
import math
import numbers
from abc import ABC, abstractmethod

import numpy as np
import torch

from ubo.synthetic.constants import Constants
from ubo.synthetic.noise import LAWS, NoiseLaw
from ubo.synthetic.rng import Draw

Tensor = torch.Tensor

# Sub-streams of a Draw reserved for additive noise (problems use 0..9 for their own sampling).
_SUB_X, _SUB_Y, _SUB_HVP, _SUB_JVP, _SUB_GX = 20, 30, 40, 50, 60


MAX_MAGNITUDE = 1e100  # beyond it, the certified constants (products and squares of parameters) leave float64
SEED_LIMIT = 2**64     # seeds are 64-bit counters: larger ones would alias smaller ones


def as_number(value):
    """numpy and 0-d torch integer / floating scalars as Python int / float (sweeps over numpy arrays are
    common); bools and everything else unchanged."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def check_seed(name: str, value) -> int:
    """An int in [0, 2^64) (numpy integers accepted)."""
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be an int in [0, 2**64), got {value!r}")
    return value


_SIGMA_KINDS = {"sigma_f": ("grad_f",), "sigma_g1": ("grad_g",), "sigma_g2": ("hvp", "jvp")}


def noise_laws(noise: str | dict, sigma_f: float | None, sigma_g1: float | None, sigma_g2: float | None,
               nu: float) -> dict:
    """Per-kind NoiseLaw from a law name (all kinds) or a dict {kind: law name}.

    Nothing is silently dropped: a sigma > 0 whose oracle kinds all have the law 'none' is an error
    (it would not be applied), and so is a law without any sigma (every kind would stay exact);
    sigma = 0 given explicitly is the exact limit of a sweep. None means "not given" (= 0).
    """
    kinds = ("grad_f", "grad_g", "hvp", "jvp")
    if isinstance(noise, str):
        names = dict.fromkeys(kinds, noise)
    elif isinstance(noise, dict):
        unknown = set(noise) - set(kinds)
        if unknown:
            raise ValueError(f"noise keys must be among {kinds}, got {sorted(unknown)}")
        names = {k: noise.get(k, "none") for k in kinds}
    else:
        raise ValueError(f"noise must be a law name in {LAWS} or a dict {{kind: law}}, got {noise!r}")
    for law in names.values():
        if law not in LAWS:
            raise ValueError(f"noise law must be one of {LAWS}, got {law!r}")
    given = {}
    for label, value in (("sigma_f", sigma_f), ("sigma_g1", sigma_g1), ("sigma_g2", sigma_g2)):
        if value is not None:
            given[label] = check_number(label, value, 0)
    for label, value in given.items():
        if value > 0 and all(names[k] == "none" for k in _SIGMA_KINDS[label]):
            raise ValueError(f"{label}={value!r} would be ignored: noise={noise!r} leaves "
                             f"{' and '.join(_SIGMA_KINDS[label])} exact. Pass a noise law, noise='bounded' "
                             f"(a.s. bounded, the papers' assumption A3), 'gaussian' or 'student_t', or drop {label}")
    if not given and any(law != "none" for law in names.values()):
        raise ValueError(f"noise={noise!r} needs a size: pass sigma_f, sigma_g1 and/or sigma_g2 (0 for an exact "
                         f"oracle kind); without them every oracle would stay exact")
    sigmas = {k: given.get(label, 0.0) for label, ks in _SIGMA_KINDS.items() for k in ks}
    nu = as_number(nu)
    return {k: NoiseLaw(names[k], sigmas[k] if names[k] != "none" else 0.0, nu) for k in kinds}


def check_positive_int(name: str, value) -> int:
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_number(name: str, value, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Validate a float parameter against [low, high] (open ends when asked) and |value| <= MAX_MAGNITUDE."""
    value = as_number(value)
    high = min(high, MAX_MAGNITUDE)
    low = max(low, -MAX_MAGNITUDE)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")
    return float(value)


def certify(params: dict, **constants) -> Constants:
    """Constants(**constants), with an error naming the parameters when one overflows float64."""
    try:
        return Constants(**constants)
    except ValueError as err:
        if all(isinstance(v, bool) or v is None or math.isfinite(v) for v in constants.values()):
            raise
        large = sorted(((abs(v), k) for k, v in params.items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)), reverse=True)[:3]
        names = ", ".join(f"{k}={params[k]!r}" for _, k in large)
        raise ValueError(f"{err}: the parameters are too large for float64 (largest: {names})") from None


class BilevelProblem(ABC):
    """Base class: exact quantities plus per-sample stochastic realisations."""

    name: str = "problem"
    has_ground_truth: bool = True  # y*, z*, Phi, grad Phi available (False for realistic tasks)
    dim_x: int
    dim_y: int
    constants: Constants
    noise: dict  # kind -> NoiseLaw

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64):
        self.device = torch.device(device)
        self.dtype = dtype

    # ---- exact quantities (closed form in subclasses) -------------------------------
    @abstractmethod
    def f(self, x: Tensor, y: Tensor) -> Tensor: ...

    @abstractmethod
    def g(self, x: Tensor, y: Tensor) -> Tensor: ...

    @abstractmethod
    def grad_f(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """(grad_x f, grad_y f)."""

    @abstractmethod
    def grad_y_g(self, x: Tensor, y: Tensor) -> Tensor: ...

    @abstractmethod
    def hvp_yy(self, x: Tensor, y: Tensor, v: Tensor) -> Tensor:
        """grad2_yy g(x, y) v, shape (R, dim_y)."""

    @abstractmethod
    def jvp_xy(self, x: Tensor, y: Tensor, v: Tensor) -> Tensor:
        """grad2_xy g(x, y) v, shape (R, dim_x): the x-gradient of <grad_y g, v>."""

    def hvp_jvp_xy(self, x: Tensor, y: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """(grad2_yy g v, grad2_xy g v); a family may compute both in one product."""
        return self.hvp_yy(x, y, v), self.jvp_xy(x, y, v)

    @abstractmethod
    def y_star(self, x: Tensor) -> Tensor: ...

    @abstractmethod
    def hessian_yy(self, x: Tensor, y: Tensor) -> Tensor:
        """grad2_yy g(x, y) as (R, dim_y, dim_y)."""

    def z_star(self, x: Tensor) -> Tensor:
        """z*(x) = [grad2_yy g]^-1 grad_y f at y*(x)."""
        y = self.y_star(x)
        _, gy = self.grad_f(x, y)
        return torch.linalg.solve(self.hessian_yy(x, y), gy.unsqueeze(-1)).squeeze(-1)

    def phi(self, x: Tensor) -> Tensor:
        return self.f(x, self.y_star(x))

    def grad_phi(self, x: Tensor) -> Tensor:
        """Implicit-function hypergradient grad_x f - grad2_xy g z* at y*(x)."""
        y = self.y_star(x)
        gx, _ = self.grad_f(x, y)
        return gx - self.jvp_xy(x, y, self.z_star(x))

    # ---- initial points -------------------------------------------------------------
    @property
    def x0(self) -> Tensor:
        """Default upper-level start (dim_x,); every run starts here."""
        return torch.zeros(self.dim_x, dtype=self.dtype, device=self.device)

    @property
    def y0(self) -> Tensor:
        """Default lower-level start (dim_y,)."""
        return torch.zeros(self.dim_y, dtype=self.dtype, device=self.device)

    # ---- stochastic realisations: exact + additive noise by default -------------------
    def sample_grad_f(self, x: Tensor, y: Tensor, draw: Draw) -> tuple[Tensor, Tensor]:
        gx, gy = self.grad_f(x, y)
        law = self.noise["grad_f"]
        if law.active:
            nx, ny = law.sample(draw, (self.dim_x, self.dim_y), _SUB_X)
            gx, gy = gx + nx, gy + ny
        return gx, gy

    def sample_grad_g(self, x: Tensor, y: Tensor, draw: Draw) -> Tensor:
        gy = self.grad_y_g(x, y)
        law = self.noise["grad_g"]
        return gy + law.sample(draw, (self.dim_y,), _SUB_Y)[0] if law.active else gy

    def grad_x_g(self, x: Tensor, y: Tensor) -> Tensor:
        """grad_x g(x, y), shape (R, dim_x); by autograd on ``g`` unless a family gives a closed form."""
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            return torch.autograd.grad(self.g(xr, y.detach()).sum(), xr)[0]

    def sample_grad_g_xy(self, x: Tensor, y: Tensor, draw: Draw) -> tuple[Tensor, Tensor]:
        """(grad_x G, grad_y G)(x, y; zeta) from one sample: grad_y G is ``sample_grad_g``'s on the same draw,
        grad_x G the exact grad_x g plus the grad_g noise law on its own sub-stream (a first-order oracle
        for F2SA). Finite-sum families and tasks sample grad_y G by minibatch; their x-part here is exact
        plus the law's noise unless they override this method."""
        gx = self.grad_x_g(x, y)
        law = self.noise["grad_g"]
        if law.active:
            gx = gx + law.sample(draw, (self.dim_x,), _SUB_GX)[0]
        return gx, self.sample_grad_g(x, y, draw)

    def sample_hvp(self, x: Tensor, y: Tensor, v: Tensor, draw: Draw) -> Tensor:
        """grad2_yy G(x, y; zeta) v with ||grad2_yy G - grad2_yy g|| <= sigma_g2 (noise scaled by ||v||)."""
        hv = self.hvp_yy(x, y, v)
        law = self.noise["hvp"]
        return hv + law.sample(draw, (self.dim_y,), _SUB_HVP, torch.linalg.vector_norm(v, dim=1))[0] if law.active else hv

    def sample_jvp(self, x: Tensor, y: Tensor, v: Tensor, draw: Draw) -> Tensor:
        jv = self.jvp_xy(x, y, v)
        law = self.noise["jvp"]
        return jv + law.sample(draw, (self.dim_x,), _SUB_JVP, torch.linalg.vector_norm(v, dim=1))[0] if law.active else jv

    def sample_hvp_jvp(self, x: Tensor, y: Tensor, v: Tensor, draw: Draw) -> tuple[Tensor, Tensor]:
        """Both second-order products from one sample zeta (one vector-Jacobian product of grad_y G)."""
        law = self.noise["hvp"]
        if law != self.noise["jvp"] or not law.active:
            return self.sample_hvp(x, y, v, draw), self.sample_jvp(x, y, v, draw)
        noise_y, noise_x = law.sample(draw, (self.dim_y, self.dim_x), _SUB_HVP, torch.linalg.vector_norm(v, dim=1))
        hv, jv = self.hvp_jvp_xy(x, y, v)
        return hv + noise_y, jv + noise_x

    def metrics(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Extra per-run quantities a runner records (e.g. a task's test accuracy); {} by default."""
        return {}

    # ---- helpers --------------------------------------------------------------------
    def oracle(self, runs: int = 1, seed: int = 0, run_ids: Tensor | None = None):
        """A counted stochastic oracle for ``runs`` independent runs (see synthetic.oracle).

        seed: an int in [0, 2^64) (numpy integers accepted); run r's samples depend on (seed, r, call).
        """
        from ubo.synthetic.oracle import Oracle

        return Oracle(self, runs=runs, seed=check_seed("seed", seed), run_ids=run_ids)

    def batch(self, point: Tensor, runs: int) -> Tensor:
        """Repeat a (d,) point into an (R, d) batch."""
        return point.to(self.device, self.dtype).unsqueeze(0).repeat(runs, 1)

    def __repr__(self) -> str:
        """``make_problem('coupled', dim_x=3, ...)``: the call that rebuilds this instance (non-default parameters)."""
        from ubo.synthetic.registry import registered

        params = getattr(self, "params", None)
        if params is None or not registered(self.name):
            return object.__repr__(self)
        from ubo.synthetic.registry import problem_parameters

        defaults = problem_parameters(self.name)
        args = [repr(self.name)]
        for key, value in params.items():
            default = defaults.get(key, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or type(value) is not type(default) or value != default:
                args.append(f"{key}={value!r}")
        if self.device.type != "cpu":
            args.append(f"device={str(self.device)!r}")
        return f"make_problem({', '.join(args)})"

    def describe(self) -> str:
        c = self.constants
        return (f"{self.name}: dim_x={self.dim_x}, dim_y={self.dim_y}, mu={c.mu:.4g}, l_g1={c.l_g1:.4g}, "
                f"kappa={c.kappa:.4g}, L_x=({c.L_x0:.4g}, {c.L_x1:.4g}), L_y=({c.L_y0:.4g}, {c.L_y1:.4g}), "
                f"l_f0={c.l_f0:.4g}, l_g2={c.l_g2:.4g}")
