"""``quadratic_samples``: a finite-sum quadratic bilevel problem given as per-sample arrays.

The per-sample form of benchopt's benchmark_bilevel simulated quadratic (Dagreou et al., NeurIPS 2022,
section 4 and its benchmark), so that one instance runs in both libraries:

    g_i(x, y) = 1/2 y^T Gyy_i y + 1/2 x^T Gxx_i x + x^T Gxy_i y + gy_i^T y + gx_i^T x,   i < n_inner
    f_j(x, y) = 1/2 y^T Fyy_j y + 1/2 x^T Fxx_j x + x^T Fxy_j y + fy_j^T y + fx_j^T x,   j < n_outer
    g = mean_i g_i,  f = mean_j f_j

given as ``inner`` and ``outer`` dicts of arrays (numpy or torch): hess_y (n, dy, dy), hess_x (n, dx, dx),
cross (n, dx, dy), linear_y (n, dy), linear_x (n, dx); hess_x and linear_x may be omitted (zero). Per-sample
Hessians must be symmetric; the mean inner hess_y must be positive definite (g(x, .) strongly convex).

Closed forms (row vectors; Gyy, Gxy, ... the means; Fu = [[Fxx, Fxy], [Fxy^T, Fyy]]):
    grad_y g = y Gyy + x Gxy + gy,   grad_x g = x Gxx + y Gxy^T + gx,  grad2_yy g = Gyy,  grad2_xy g = Gxy
    y*(x) = x J + y_c,  J = -Gxy Gyy^-1,  y_c = -gy Gyy^-1
    grad Phi(x) = grad_x f + grad_y f J^T at (x, y*(x)) = x H_phi + q_phi,  H_phi = P Fu P^T,  P = [I, J]
Certified constants (every Hessian is constant: L1 = l_g2 = 0): L_x0 = ||[Fxx, Fxy]||, L_y0 = ||[Fxy^T, Fyy]||,
mu = lambda_min(Gyy), l_g1 = ||joint Hessian of g||, phi_L0 = ||H_phi||, phi_inf = Phi(x_min) when H_phi is
positive definite (else None: Phi is unbounded below or not certified). As in ``quadratic``, l_f0 and the
minibatch noise bounds hold on the region ||x|| <= rho = ``radius``, ||y|| <= rho_y = 2 max(||J|| rho + ||y_c||, 1):
    l_f0 = ||J Fyy + Fxy|| rho + ||y_c Fyy + fy||
    sigma_f  = max_j ||Fu_j - Fu|| sqrt(rho^2 + rho_y^2) + max_j ||(fx_j, fy_j) - (fx, fy)||
    sigma_g1 = max_i ||Gyy_i - Gyy|| rho_y + max_i ||Gxy_i - Gxy|| rho + max_i ||gy_i - gy||
    sigma_g2 = max(max_i ||Gyy_i - Gyy||, max_i ||Gxy_i - Gxy||)
plus the additive noise laws' sigmas. Minibatches: ``batch_size`` samples per call and level, ``sampling``
"iid" or "shuffle" (synthetic.finite_sum). Each minibatch oracle gathers the b per-sample matrices of each
run: O(R b d^2) per call (fine for d up to a few tens; ``quadratic`` uses rank-one samples, O(R b d)).
Not in the name registry: its parameters are arrays, which ``make_problem`` and ``repr`` do not carry.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ubo.synthetic import finite_sum as fs
from ubo.synthetic import fused_minibatch
from ubo.synthetic.problem import _SUB_GX, BilevelProblem, certify, check_number, check_positive_int, noise_laws

KEYS = ("hess_y", "hess_x", "cross", "linear_y", "linear_x")
OPTIONAL = ("hess_x", "linear_x")


def _norm(m: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(m, ord=2))


def _arrays(level: str, given, dim_x: int | None, device) -> dict:
    """The five arrays of one level as float64 tensors, with shapes, symmetry and finiteness checked."""
    if not isinstance(given, dict):
        raise ValueError(f"{level} must be a dict of per-sample arrays with keys {KEYS}, got {type(given).__name__}")
    unknown = sorted(set(given) - set(KEYS))
    missing = sorted(set(KEYS) - set(OPTIONAL) - set(given))
    if unknown or missing:
        raise ValueError(f"{level} must have keys {KEYS} ({OPTIONAL} optional); unknown {unknown}, missing {missing}")
    out = {}
    for key, value in given.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value)
        if value.dtype.kind not in "fiu":
            raise ValueError(f"{level}['{key}'] must be a real array, got dtype {value.dtype}")
        out[key] = torch.as_tensor(value, dtype=torch.float64).to(device)
    n, dy = out["hess_y"].shape[0], out["hess_y"].shape[-1]
    dx = out["cross"].shape[1] if out["cross"].dim() == 3 else -1
    out.setdefault("hess_x", torch.zeros(n, max(dx, 0), max(dx, 0), dtype=torch.float64, device=device))
    out.setdefault("linear_x", torch.zeros(n, max(dx, 0), dtype=torch.float64, device=device))
    shapes = {"hess_y": (n, dy, dy), "hess_x": (n, dx, dx), "cross": (n, dx, dy), "linear_y": (n, dy),
              "linear_x": (n, dx)}
    for key, shape in shapes.items():
        if tuple(out[key].shape) != shape or n == 0 or dy == 0 or dx <= 0:
            got = {k: tuple(v.shape) for k, v in out.items()}
            raise ValueError(f"{level} arrays must have shapes hess_y (n, dy, dy), hess_x (n, dx, dx), cross (n, dx, dy), "
                             f"linear_y (n, dy), linear_x (n, dx) with n, dx, dy >= 1; got {got}")
        if not bool(torch.isfinite(out[key]).all()):
            raise ValueError(f"{level}['{key}'] must be finite, got NaN or inf entries")
    if dim_x is not None and dx != dim_x:
        raise ValueError(f"inner and outer must have the same dim_x and dim_y: inner has dim_x = {dim_x}, "
                         f"{level} has {dx}")
    for key in ("hess_y", "hess_x"):
        m = out[key]
        if float((m - m.transpose(1, 2)).abs().max()) > 1e-12 * max(float(m.abs().max()), 1.0):
            raise ValueError(f"{level}['{key}'] must hold symmetric matrices (a quadratic form sees only the "
                             f"symmetric part; pass (H + H^T) / 2)")
    return out


def _max_deviation(per_sample: torch.Tensor, mean: torch.Tensor) -> float:
    """max_i ||M_i - M|| (spectral norm for matrices, Euclidean for vectors)."""
    dev = per_sample - mean
    return float((torch.linalg.matrix_norm(dev, ord=2) if dev.dim() == 3 else dev.norm(dim=1)).max())


class QuadraticSamples(BilevelProblem):
    name = "quadratic_samples"

    def __init__(self, inner: dict, outer: dict, batch_size: int = 64, sampling: str = "iid",
                 x0=None, radius: float | None = None, noise: str | dict = "none", sigma_f: float | None = None,
                 sigma_g1: float | None = None, sigma_g2: float | None = None, nu: float = 4.0, device: str = "cpu"):
        super().__init__(device=device)
        dev = self.device
        self.inner = _arrays("inner", inner, None, dev)
        self.outer = _arrays("outer", outer, self.inner["cross"].shape[1], dev)
        if self.outer["hess_y"].shape[-1] != self.inner["hess_y"].shape[-1]:
            raise ValueError(f"inner and outer must have the same dim_y: inner has {self.inner['hess_y'].shape[-1]}, "
                             f"outer has {self.outer['hess_y'].shape[-1]}")
        self.n_inner, self.n_outer = self.inner["hess_y"].shape[0], self.outer["hess_y"].shape[0]
        self.dim_x, self.dim_y = self.inner["cross"].shape[1], self.inner["cross"].shape[2]
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.sampling = fs.check_sampling(sampling, min(self.n_inner, self.n_outer), batch_size)
        if radius is not None:
            check_number("radius", radius, 0, low_open=True)
        self.noise = noise_laws(noise, sigma_f, sigma_g1, sigma_g2, nu)
        dx, dy = self.dim_x, self.dim_y
        if x0 is None:
            x0 = torch.zeros(dx, dtype=torch.float64)
        x0 = torch.as_tensor(np.asarray(x0.cpu() if isinstance(x0, torch.Tensor) else x0), dtype=torch.float64)
        if x0.shape != (dx,) or not bool(torch.isfinite(x0).all()):
            raise ValueError(f"x0 must be a finite array of shape ({dx},), got shape {tuple(x0.shape)}")
        self._x0 = x0.to(dev)
        self.params = dict(n_inner=self.n_inner, n_outer=self.n_outer, dim_x=dx, dim_y=dy, batch_size=batch_size,
                           sampling=sampling, radius=radius, noise=noise, sigma_f=sigma_f, sigma_g1=sigma_g1,
                           sigma_g2=sigma_g2, nu=nu)

        # population means (exact averages of the samples)
        G = {k: v.mean(dim=0) for k, v in self.inner.items()}
        F = {k: v.mean(dim=0) for k, v in self.outer.items()}
        self.G, self.F = G, F
        eig = torch.linalg.eigvalsh(G["hess_y"])
        if float(eig[0]) <= 0:
            raise ValueError(f"the mean of inner['hess_y'] must be positive definite (g(x, .) strongly convex); "
                             f"its smallest eigenvalue is {float(eig[0]):.3g}")
        self.Gyy_inv = torch.linalg.inv(G["hess_y"])
        self.J = -G["cross"] @ self.Gyy_inv
        self.y_c = -G["linear_y"] @ self.Gyy_inv
        Fu = torch.cat((torch.cat((F["hess_x"], F["cross"]), 1), torch.cat((F["cross"].T, F["hess_y"]), 1)), 0)
        self.Fu = Fu
        P = torch.cat((torch.eye(dx, dtype=torch.float64, device=dev), self.J), dim=1)
        H_phi = P @ Fu @ P.T
        self.H_phi = 0.5 * (H_phi + H_phi.T)
        self.q_phi = (self.y_c @ torch.cat((F["cross"].T, F["hess_y"]), 1) + torch.cat((F["linear_x"], F["linear_y"]))) @ P.T
        eig_phi = torch.linalg.eigvalsh(self.H_phi)
        self.x_min = -torch.linalg.solve(self.H_phi, self.q_phi) if float(eig_phi[0]) > 0 else None

        # ---- certified constants (module docstring) ----
        anchors = [float(self._x0.norm()), 1.0] + ([float(self.x_min.norm())] if self.x_min is not None else [])
        rho = radius if radius is not None else 2.0 * max(anchors)
        rho_y = 2.0 * max(_norm(self.J) * rho + float(self.y_c.norm()), 1.0)
        self.radius, self.radius_y = float(rho), float(rho_y)
        joint = torch.cat((torch.cat((G["hess_x"], G["cross"]), 1), torch.cat((G["cross"].T, G["hess_y"]), 1)), 0)
        inner_s, outer_s = self.inner, self.outer
        Fu_i = torch.cat((torch.cat((outer_s["hess_x"], outer_s["cross"]), 2),
                          torch.cat((outer_s["cross"].transpose(1, 2), outer_s["hess_y"]), 2)), 1)
        lin_i = torch.cat((outer_s["linear_x"], outer_s["linear_y"]), 1)
        dev_F, dev_l = _max_deviation(Fu_i, Fu), _max_deviation(lin_i, lin_i.mean(0))
        dev_H = _max_deviation(inner_s["hess_y"], G["hess_y"])
        dev_C = _max_deviation(inner_s["cross"], G["cross"])
        dev_h = _max_deviation(inner_s["linear_y"], G["linear_y"])
        self.minibatch_sigma = {"grad_f": dev_F * math.hypot(rho, rho_y) + dev_l,
                                "grad_g": dev_H * rho_y + dev_C * rho + dev_h, "hvp": dev_H, "jvp": dev_C}
        laws = self.noise
        self.constants = certify(
            self.params,
            L_x0=_norm(Fu[:dx]), L_x1=0.0, L_y0=_norm(Fu[dx:]), L_y1=0.0,
            l_f0=_norm(self.J @ F["hess_y"] + F["cross"]) * rho + float((self.y_c @ F["hess_y"] + F["linear_y"]).norm()),
            mu=float(eig[0]),
            l_g1=max(float(torch.linalg.eigvalsh(joint).abs().max()), float(eig[-1])),
            l_g2=0.0,
            sigma_f=self.minibatch_sigma["grad_f"] + laws["grad_f"].sigma,
            sigma_g1=self.minibatch_sigma["grad_g"] + laws["grad_g"].sigma,
            sigma_g2=max(dev_H + laws["hvp"].sigma, dev_C + laws["jvp"].sigma),
            noise_bounded=all(law.almost_surely_bounded for law in laws.values()),
            phi_L0=float(eig_phi.abs().max()), phi_L1=0.0,
            phi_inf=float(self.phi(self.x_min[None])[0]) if self.x_min is not None else None,
        )

    # ---- exact (population) quantities ------------------------------------------------
    @staticmethod
    def _value(M: dict, x, y):
        return (0.5 * ((y @ M["hess_y"]) * y).sum(1) + 0.5 * ((x @ M["hess_x"]) * x).sum(1)
                + ((x @ M["cross"]) * y).sum(1) + y @ M["linear_y"] + x @ M["linear_x"])

    def f(self, x, y):
        return self._value(self.F, x, y)

    def g(self, x, y):
        return self._value(self.G, x, y)

    def grad_f(self, x, y):
        F = self.F
        return x @ F["hess_x"] + y @ F["cross"].T + F["linear_x"], y @ F["hess_y"] + x @ F["cross"] + F["linear_y"]

    def grad_y_g(self, x, y):
        return y @ self.G["hess_y"] + x @ self.G["cross"] + self.G["linear_y"]

    def grad_x_g(self, x, y):
        return x @ self.G["hess_x"] + y @ self.G["cross"].T + self.G["linear_x"]

    def hvp_yy(self, x, y, v):
        return v @ self.G["hess_y"]

    def jvp_xy(self, x, y, v):
        return v @ self.G["cross"].T

    def hessian_yy(self, x, y):
        return self.G["hess_y"].expand(x.shape[0], self.dim_y, self.dim_y)

    def y_star(self, x):
        return x @ self.J + self.y_c

    def z_star(self, x):
        _, gy = self.grad_f(x, self.y_star(x))
        return gy @ self.Gyy_inv

    def grad_phi(self, x):
        return x @ self.H_phi + self.q_phi

    @property
    def x0(self):
        return self._x0

    # ---- minibatch oracles: derivatives of (1/b) sum over the drawn samples ---------------
    @staticmethod
    def _mean_matvec(M: torch.Tensor, idx: torch.Tensor, v: torch.Tensor, transpose: bool = False):
        """(1/b) sum_j v_r M_{idx_rj} (or M^T): M (n, p, q), v (R, p) -> (R, q). On CPU float64 one numba loop
        reads the drawn matrices in place (synthetic.fused_minibatch) instead of gathering (R, b, p, q) copies."""
        if fused_minibatch.usable(M, v):
            return fused_minibatch.matvec_rows(idx, M, v, transpose)
        return torch.einsum("rbpq,rq->rp" if transpose else "rbpq,rp->rq", M[idx], v) / idx.shape[1]

    @staticmethod
    def _mean(rows: torch.Tensor, idx: torch.Tensor):
        """(1/b) sum_j rows_{idx_rj}: rows (n, d) -> (R, d)."""
        return fs.Minibatch(idx, rows.shape[0]).mean(rows)

    def _batch(self, draw, level: str):
        n, sub = (self.n_inner, fs.SUB_LOWER) if level == "inner" else (self.n_outer, fs.SUB_UPPER)
        return fs.minibatch(draw, n, self.batch_size, sub, self.sampling).idx

    def sample_grad_f(self, x, y, draw):
        idx, S = self._batch(draw, "outer"), self.outer
        gx = self._mean_matvec(S["hess_x"], idx, x) + self._mean_matvec(S["cross"], idx, y, True) \
            + self._mean(S["linear_x"], idx)
        gy = self._mean_matvec(S["hess_y"], idx, y) + self._mean_matvec(S["cross"], idx, x) \
            + self._mean(S["linear_y"], idx)
        return fs.add_noise(self, "grad_f", (gx, gy), draw)

    def _grad_g(self, idx, x, y):
        S = self.inner
        return self._mean_matvec(S["hess_y"], idx, y) + self._mean_matvec(S["cross"], idx, x) \
            + self._mean(S["linear_y"], idx)

    def sample_grad_g(self, x, y, draw):
        return fs.add_noise(self, "grad_g", (self._grad_g(self._batch(draw, "inner"), x, y),), draw)[0]

    def sample_grad_g_xy(self, x, y, draw):
        """(grad_x G, grad_y G) on one minibatch of g (a first-order oracle for F2SA)."""
        idx, S = self._batch(draw, "inner"), self.inner
        gx = self._mean_matvec(S["hess_x"], idx, x) + self._mean_matvec(S["cross"], idx, y, True) \
            + self._mean(S["linear_x"], idx)
        law = self.noise["grad_g"]
        if law.active:
            gx = gx + law.sample(draw, (self.dim_x,), _SUB_GX)[0]
        return gx, self.sample_grad_g(x, y, draw)

    def sample_hvp(self, x, y, v, draw):
        hv = self._mean_matvec(self.inner["hess_y"], self._batch(draw, "inner"), v)
        return fs.add_noise(self, "hvp", (hv,), draw, v.norm(dim=1))[0]

    def sample_jvp(self, x, y, v, draw):
        jv = self._mean_matvec(self.inner["cross"], self._batch(draw, "inner"), v, True)
        return fs.add_noise(self, "jvp", (jv,), draw, v.norm(dim=1))[0]

    def sample_hvp_jvp(self, x, y, v, draw):
        """Both products on one minibatch (one vector-Jacobian product of grad_y G on the same samples)."""
        idx, scale = self._batch(draw, "inner"), v.norm(dim=1)
        hv = fs.add_noise(self, "hvp", (self._mean_matvec(self.inner["hess_y"], idx, v),), draw, scale)[0]
        jv = fs.add_noise(self, "jvp", (self._mean_matvec(self.inner["cross"], idx, v, True),), draw, scale)[0]
        return hv, jv

    # ---- per-sample functions (for autograd checks) ------------------------------------
    def minibatch_f(self, x, y, idx):
        """(1/b) sum_j f_{idx_j}(x, y) for an (R, b) index tensor."""
        return self._minibatch_value(self.outer, x, y, idx)

    def minibatch_g(self, x, y, idx):
        return self._minibatch_value(self.inner, x, y, idx)

    @staticmethod
    def _minibatch_value(S, x, y, idx):
        quad = lambda M, a, b: torch.einsum("rp,rbpq,rq->rb", a, M[idx], b)  # noqa: E731
        value = 0.5 * quad(S["hess_y"], y, y) + 0.5 * quad(S["hess_x"], x, x) + quad(S["cross"], x, y) \
            + torch.einsum("rbq,rq->rb", S["linear_y"][idx], y) + torch.einsum("rbp,rp->rb", S["linear_x"][idx], x)
        return value.mean(dim=1)


def quadratic_samples(inner: dict, outer: dict, **params) -> QuadraticSamples:
    """A finite-sum quadratic bilevel problem from per-sample arrays (benchopt's simulated form)."""
    return QuadraticSamples(inner, outer, **params)
