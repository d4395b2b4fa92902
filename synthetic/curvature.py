"""Family F4 `curvature`: x-dependent lower-level curvature over a finite data set (l_g2 > 0).

    g_i(x, y) = 1/2 (z_i^T y - b_i)^2 + 1/2 y^T diag(s(x)) y + mu0/2 ||y||^2,   s(x) = lam sigmoid(W x)
    f_j(x, y) = U(x) + 1/2 (v_j^T y - c_j)^2        (validation sample j; U the cosh landscape)
    g = (1/n) sum g_i,  f = (1/n_val) sum f_j;  every g_i is mu0-strongly convex in y (AdamBO's A4).

Ground truth (one d_y x d_y solve per run):
    H(x) = Z^T Z / n + diag(s(x)) + mu0 I = grad2_yy g,  y*(x) = H(x)^-1 Z^T b / n,
    grad_y g = H(x) y - Z^T b / n,  grad2_xy g v = lam W^T (sigmoid'(W x) * y * v),
    z* = H^-1 grad_y f(x, y*),  grad Phi = grad U - grad2_xy g z*  (base-class formulas).

Certified constants (sigmoid' <= 1/4, |sigmoid''| <= sqrt(3)/18 at sigmoid = 1/2 +- 1/(2 sqrt 3)):
    f: d/du grad_x f = [grad2 U, 0]: (L_x0, L_x1) = U's certificate (L0 + alpha omega^2 + alpha omega L1, L1);
       d/du grad_y f = [0, V^T V / n_val]: (L_y0, L_y1) = (||V^T V|| / n_val, 0).
    mu = mu0 + lambda_min(Z^T Z / n)  (s >= 0; approached as s -> 0).
    ||y*(x)|| <= ||Z^T b / n|| / mu =: r*, so l_f0 = ||V^T V / n_val|| r* + ||V^T c / n_val||  (everywhere).
    The x-derivatives of g grow with y (grad2_xx g = lam W^T diag(sigmoid''(W x) y^2 / 2) W), so l_g1 and l_g2
    hold on the tube ||y|| <= rho_y = 2 r* (``radius_y``), which contains every y*(x):
      l_g1 = ||Z^T Z / n|| + lam + mu0 + lam ||W|| rho_y / 4 + lam ||W||^2 (sqrt(3)/18) rho_y^2 / 2
             (||[[A, B], [B^T, D]]|| <= max(||A||, ||D||) + ||B|| with each block bounded on the tube);
      grad2_yy g changes by ||diag(s(x) - s(x'))|| <= lam w_max / 4 ||x - x'||  (w_max = max row norm of W);
      grad2_xy g changes by lam ||W|| (||dy||_inf / 4 + (sqrt(3)/18) w_max ||y||_inf ||dx||), so
      l_g2 = lam ||W|| (1/4 + (sqrt(3)/18) w_max rho_y)  (>= lam w_max / 4 since ||W|| >= w_max).
    Phi: phi_inf = inf U (the validation loss is >= 0); Phi's (L0, L1) is not certified here (frontier only).
Minibatch noise on the tube (synthetic.finite_sum): with d_i = z_i z_i^T - Z^T Z / n and e_i = z_i b_i - Z^T b / n,
    sigma_g1 = max_i ||d_i|| rho_y + max_i ||e_i||,  sigma_g2 = max_i ||d_i|| (the JVP has no data noise),
    sigma_f  = max_j ||v_j v_j^T - V^T V / n_val|| rho_y + max_j ||v_j c_j - V^T c / n_val||  (grad_x f = grad U),
    with ||z z^T - S|| <= max(||z||^2, ||S||) for PSD S.
plus the additive laws' sigmas; noise_bounded reports the additive laws (the data part is bounded on the tube).
"""

from __future__ import annotations

import math

import torch

from ubo.synthetic import finite_sum as fs
from ubo.synthetic.landscape import CoshLandscape, random_orthogonal
from ubo.synthetic.problem import (BilevelProblem, certify, check_number, check_positive_int, check_seed,
                                   noise_laws)

SIGMOID_D2_MAX = math.sqrt(3.0) / 18.0


def _regression(n: int, dim: int, theta: torch.Tensor, label_noise: float, gen: torch.Generator):
    z = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    return z, z @ theta + label_noise * torch.randn(n, generator=gen, dtype=torch.float64)


class Curvature(BilevelProblem):
    name = "curvature"

    def __init__(self, dim_x: int = 10, dim_y: int = 10, n: int = 256, n_val: int = 256, batch_size: int = 32,
                 mu0: float = 0.1, lam: float = 1.0, w_norm: float = 1.0, label_noise: float = 0.5,
                 L0: float = 1.0, L1: float = 1.0, alpha: float = 0.5, omega: float = 2.0, x0_scale: float = 2.5,
                 rotate: bool = True, instance_seed: int = 0, noise: str | dict = "none", sigma_f: float | None = None,
                 sigma_g1: float | None = None, sigma_g2: float | None = None, nu: float = 4.0, device: str = "cpu"):
        super().__init__(device=device)
        self.dim_x = check_positive_int("dim_x", dim_x)
        self.dim_y = check_positive_int("dim_y", dim_y)
        self.n = check_positive_int("n", n)
        self.n_val = check_positive_int("n_val", n_val)
        self.batch_size = check_positive_int("batch_size", batch_size)
        check_number("mu0", mu0, 0, low_open=True)
        check_number("lam", lam, 0)
        check_number("w_norm", w_norm, 0)
        check_number("label_noise", label_noise, 0)
        check_number("L0", L0, 0, low_open=True)
        check_number("L1", L1, 0)
        check_number("alpha", alpha, 0)
        check_number("omega", omega, 0)
        check_number("x0_scale", x0_scale)
        instance_seed = check_seed("instance_seed", instance_seed)
        self.noise = noise_laws(noise, sigma_f, sigma_g1, sigma_g2, nu)
        self.params = dict(dim_x=dim_x, dim_y=dim_y, n=n, n_val=n_val, batch_size=batch_size, mu0=mu0, lam=lam,
                           w_norm=w_norm, label_noise=label_noise, L0=L0, L1=L1, alpha=alpha, omega=omega,
                           x0_scale=x0_scale, rotate=rotate, instance_seed=instance_seed, noise=noise,
                           sigma_f=sigma_f, sigma_g1=sigma_g1, sigma_g2=sigma_g2, nu=nu)

        gen = torch.Generator().manual_seed(instance_seed)
        rotation = random_orthogonal(dim_x, gen) if rotate else None
        theta = torch.randn(dim_y, generator=gen, dtype=torch.float64)
        Z, b = _regression(n, dim_y, theta, label_noise, gen)
        V, c = _regression(n_val, dim_y, theta, label_noise, gen)
        W = torch.randn(dim_y, dim_x, generator=gen, dtype=torch.float64)
        W = W * (w_norm / torch.linalg.matrix_norm(W, ord=2)) if w_norm > 0 else torch.zeros_like(W)

        self.mu0, self.lam = float(mu0), float(lam)
        G_train, G_val = Z.T @ Z / n, V.T @ V / n_val
        zb, vc = Z.T @ b / n, V.T @ c / n_val
        dev = self.device
        self.Z, self.b, self.V, self.c, self.W = (t.to(dev) for t in (Z, b, V, c, W))
        self.G_train, self.G_val, self.zb, self.vc = (t.to(dev) for t in (G_train, G_val, zb, vc))
        self.U = CoshLandscape(dim_x, L0, L1, alpha, omega, None if rotation is None else rotation.to(dev))
        x0 = x0_scale * torch.ones(dim_x, dtype=torch.float64)
        self._x0 = (x0 if rotation is None else x0 @ rotation).to(dev)
        self.U.check_start(self._x0)

        # ---- certified constants (see module docstring) ----
        def norm(m):
            return float(torch.linalg.matrix_norm(m, ord=2))

        eig_G = torch.linalg.eigvalsh(G_train)  # Z^T Z / n is PSD: its norm is the top eigenvalue
        mu = mu0 + float(eig_G[0])
        r_star = float(zb.norm()) / mu
        rho_y = 2.0 * r_star
        self.radius_y = rho_y
        nW = norm(W)
        w_max = float(W.norm(dim=1).max())
        L0_U, L1_U = self.U.certified
        dev_G = fs.psd_deviation_bound(Z, G_train)
        dev_zb = float((Z * b[:, None] - zb).norm(dim=1).max())
        dev_V = fs.psd_deviation_bound(V, G_val)
        dev_vc = float((V * c[:, None] - vc).norm(dim=1).max())
        self.minibatch_sigma = {"grad_f": dev_V * rho_y + dev_vc, "grad_g": dev_G * rho_y + dev_zb,
                                "hvp": dev_G, "jvp": 0.0}
        laws = self.noise
        self.constants = certify(
            self.params,
            L_x0=L0_U, L_x1=L1_U, L_y0=norm(G_val), L_y1=0.0,
            l_f0=norm(G_val) * r_star + float(vc.norm()),
            mu=mu,
            l_g1=(max(float(eig_G[-1]) + lam + mu0, lam * nW**2 * SIGMOID_D2_MAX * rho_y**2 / 2)
                  + lam * nW * rho_y / 4),
            l_g2=lam * nW * (0.25 + SIGMOID_D2_MAX * w_max * rho_y),
            sigma_f=self.minibatch_sigma["grad_f"] + laws["grad_f"].sigma,
            sigma_g1=self.minibatch_sigma["grad_g"] + laws["grad_g"].sigma,
            sigma_g2=max(dev_G + laws["hvp"].sigma, laws["jvp"].sigma),
            noise_bounded=all(law.almost_surely_bounded for law in laws.values()),
            phi_inf=self.U.infimum(),
        )

    # ---- exact (population) quantities ------------------------------------------------
    def s(self, x):
        """Per-coordinate ridge penalty s(x) = lam sigmoid(W x), (R, dim_y)."""
        return self.lam * torch.sigmoid(x @ self.W.T)

    def _ds(self, x):
        """s'(x) per coordinate: lam sigmoid'(W x)."""
        sig = torch.sigmoid(x @ self.W.T)
        return self.lam * sig * (1.0 - sig)

    def f(self, x, y):
        resid = y @ self.V.T - self.c
        return self.U.value(x) + 0.5 * (resid * resid).mean(dim=1)

    def g(self, x, y):
        resid = y @ self.Z.T - self.b
        return 0.5 * (resid * resid).mean(dim=1) + 0.5 * ((self.s(x) + self.mu0) * y * y).sum(dim=1)

    def grad_f(self, x, y):
        return self.U.grad(x), y @ self.G_val - self.vc

    def grad_y_g(self, x, y):
        return y @ self.G_train + (self.s(x) + self.mu0) * y - self.zb

    def hvp_yy(self, x, y, v):
        return v @ self.G_train + (self.s(x) + self.mu0) * v

    def jvp_xy(self, x, y, v):
        return (self._ds(x) * y * v) @ self.W

    def hessian_yy(self, x, y):
        return self.G_train + torch.diag_embed(self.s(x) + self.mu0)

    def y_star(self, x):
        rhs = self.zb.expand(x.shape[0], self.dim_y).unsqueeze(-1)
        return torch.linalg.solve(self.hessian_yy(x, None), rhs).squeeze(-1)

    @property
    def x0(self):
        return self._x0

    # ---- per-sample functions (for autograd checks and benchmarks) ---------------------
    def minibatch_f(self, x, y, idx):
        """U(x) + (1/b) sum_j 1/2 (v_{idx_j}^T y - c_{idx_j})^2 for an (R, b) index tensor."""
        resid = torch.einsum("rbd,rd->rb", self.V[idx], y) - self.c[idx]
        return self.U.value(x) + 0.5 * (resid * resid).mean(dim=1)

    def minibatch_g(self, x, y, idx):
        """(1/b) sum_j g_{idx_j}(x, y) for an (R, b) index tensor."""
        resid = torch.einsum("rbd,rd->rb", self.Z[idx], y) - self.b[idx]
        return 0.5 * (resid * resid).mean(dim=1) + 0.5 * ((self.s(x) + self.mu0) * y * y).sum(dim=1)

    # ---- minibatch oracles ------------------------------------------------------------
    def sample_grad_f(self, x, y, draw):
        batch = fs.minibatch(draw, self.n_val, self.batch_size, fs.SUB_UPPER)
        return fs.add_noise(self, "grad_f", (self.U.grad(x), batch.rank_one(self.V, y, self.c)), draw)

    def sample_grad_g(self, x, y, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER)
        grad = batch.rank_one(self.Z, y, self.b) + (self.s(x) + self.mu0) * y
        return fs.add_noise(self, "grad_g", (grad,), draw)[0]

    def _hvp(self, x, batch, v):
        return batch.rank_one(self.Z, v) + (self.s(x) + self.mu0) * v

    def sample_hvp(self, x, y, v, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER)
        return fs.add_noise(self, "hvp", (self._hvp(x, batch, v),), draw, torch.linalg.vector_norm(v, dim=1))[0]

    def sample_jvp(self, x, y, v, draw):
        """The cross derivative does not involve the data: exact, plus the additive jvp law."""
        return fs.add_noise(self, "jvp", (self.jvp_xy(x, y, v),), draw, torch.linalg.vector_norm(v, dim=1))[0]

    def sample_hvp_jvp(self, x, y, v, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER)
        scale = torch.linalg.vector_norm(v, dim=1)
        hv = fs.add_noise(self, "hvp", (self._hvp(x, batch, v),), draw, scale)[0]
        jv = fs.add_noise(self, "jvp", (self.jvp_xy(x, y, v),), draw, scale)[0]
        return hv, jv


def curvature(**params) -> Curvature:
    """F4: ridge lower level with x-dependent penalty lam sigmoid(W x); minibatch data noise."""
    return Curvature(**params)
