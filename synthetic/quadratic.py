"""The `quadratic` family: a bounded-smooth (L1 = 0) finite-sum baseline with minibatch noise.

Built in the spirit of benchopt's benchmark_bilevel quadratic: f and g are averages of n random
quadratics whose Hessians are rank-one empirical correlations with log-spaced population
spectra, and the noise of every oracle is minibatch sampling of b of the n samples. Unlike the
peer, every per-sample g_i is strongly convex (a ridge mu0 = ridge * mu), and the population
spectra are exact (the sample vectors are recoloured to the target second moment).

    g_i(x, y) = 1/2 y^T (mu0 I + a_i a_i^T) y + x^T C r_i r_i^T y + h_i^T y,     (1/n) sum a_i a_i^T = S_g
    f_i(x, y) = 1/2 u^T w_i w_i^T u + l_i^T u,   u = (x, y),                      (1/n) sum w_i w_i^T = S_f
    (1/n) sum r_i r_i^T = I, spec(mu0 I + S_g) log-spaced in [mu, L_g], spec(S_f) log-spaced in [f_mu, L_f],
    ||C|| = cross; linear terms h_i, l_i = offset * t + linear * (e_i - mean e) with t, e_i standard normal,
    so the population h = mean h_i, l = mean l_i is offset * t (zero by default, as in the peer, whose
    per-sample linear terms are N(0, 1) with mean ~ 0: then y*(0) = 0 and the minimiser of Phi is 0).

Population (H = mu0 I + S_g, F = S_f with blocks F_xx, F_xy, F_yx, F_yy):
    grad_y g = H y + C^T x + h,  grad2_yy g = H,  grad2_xy g = C,  y*(x) = -H^-1 (C^T x + h) = J^T x + y_c
    Phi(x) = f(x, y*(x)) is a convex quadratic with Hessian P F P^T, P = [I, J] (dx x (dx+dy)).

Certified constants (Hessian form; every Hessian is constant, so L1 = 0):
    L_x0 = ||[F_xx, F_xy]||, L_y0 = ||[F_yx, F_yy]||, L_x1 = L_y1 = 0;  mu = lambda_min(H) exactly;
    l_g1 = ||[[0, C], [C^T, H]]|| (joint Hessian of g);  l_g2 = 0 (constant second derivatives);
    Phi: (||P F P^T||, 0), phi_inf = Phi(x_min) exactly (P F P^T is positive definite: F is, P has full row rank).
    l_f0 only holds on a ball: grad_y f(x, y*(x)) = G x + c0 with G = F_yx + F_yy J^T, c0 = F_yy y_c + l_y, so
    ||grad_y f(x, y*(x))|| <= ||G|| rho + ||c0|| for ||x|| <= rho = ``radius``
    (default 2 max(||x0||, ||x_min||, 1): the start, the minimiser and a margin).

Minibatch noise (synthetic.finite_sum; ``sampling`` "iid", with replacement, the default, or "shuffle",
reshuffled blocks per epoch as benchopt samples; ``samples()`` exports the instance as per-sample arrays for
``quadratic_samples`` and other libraries): per-sample deviations are affine in the point, so they are
a.s. bounded only on a bounded region; here ||x|| <= rho and ||y|| <= rho_y = 2 max(||J|| rho + ||y_c||, 1)
(twice the largest ||y*(x)|| on the ball, or 2):
    ||H_i - H|| <= max(||a_i||^2, ||S_g||),  ||C_i - C|| = ||C (r_i r_i^T - I)|| <= ||C|| max(| ||r_i||^2 - 1 |, 1),
    sigma_f  = max_i max(||w_i||^2, ||S_f||) sqrt(rho^2 + rho_y^2) + max_i ||l_i - l||
    sigma_g1 = max_i ||H_i - H|| rho_y + max_i ||C_i - C|| rho + max_i ||h_i - h||
    sigma_g2 = max(max_i ||H_i - H||, max_i ||C_i - C||)   (a global a.s. bound on the matrix deviation)
plus the additive laws' sigmas (triangle inequality). noise_bounded reports the additive laws only:
the minibatch part is a.s. bounded on the region above, not on all of R^d.
"""

from __future__ import annotations

import math

import torch

from ubo.synthetic import finite_sum as fs
from ubo.synthetic.landscape import random_orthogonal, spectrum
from ubo.synthetic.problem import (BilevelProblem, certify, check_number, check_positive_int, check_seed,
                                   noise_laws)


def _spd(dim: int, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    q = random_orthogonal(dim, gen)
    m = q @ torch.diag(spectrum(dim, low, high)) @ q.T
    return 0.5 * (m + m.T)


def _recoloured(n: int, second_moment: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """n rows whose empirical second moment (1/n) sum r r^T equals ``second_moment`` (needs n >= dim)."""
    raw = torch.randn(n, second_moment.shape[0], generator=gen, dtype=torch.float64)
    return fs.whitened(raw) @ fs.sqrt_psd(second_moment)


def _linear_terms(n: int, dim: int, scale: float, offset: float, gen: torch.Generator) -> torch.Tensor:
    """Per-sample linear terms offset * t + scale * (e_i - mean e): population mean offset * t."""
    t = torch.randn(dim, generator=gen, dtype=torch.float64)
    e = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    return offset * t + scale * (e - e.mean(dim=0))


class Quadratic(BilevelProblem):
    name = "quadratic"

    def __init__(self, dim_x: int = 10, dim_y: int = 10, n: int = 1024, batch_size: int = 64, mu: float = 0.1,
                 L_g: float = 1.0, ridge: float = 0.5, cross: float = 0.1, f_mu: float = 0.1, L_f: float = 1.0,
                 linear: float = 1.0, offset: float = 0.0, x0_scale: float = 1.0, radius: float | None = None,
                 instance_seed: int = 0, noise: str | dict = "none", sigma_f: float | None = None,
                 sigma_g1: float | None = None, sigma_g2: float | None = None, nu: float = 4.0, sampling: str = "iid",
                 device: str = "cpu"):
        super().__init__(device=device)
        self.dim_x = check_positive_int("dim_x", dim_x)
        self.dim_y = check_positive_int("dim_y", dim_y)
        self.n = check_positive_int("n", n)
        if n < dim_x + dim_y:
            raise ValueError(f"n must be >= dim_x + dim_y = {dim_x + dim_y} (exact spectra), got {n!r}")
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.sampling = fs.check_sampling(sampling, n, batch_size)
        check_number("mu", mu, 0, low_open=True)
        check_number("L_g", L_g, mu)
        check_number("ridge", ridge, 0, 1, low_open=True, high_open=True)
        check_number("cross", cross, 0)
        check_number("f_mu", f_mu, 0, low_open=True)
        check_number("L_f", L_f, f_mu)
        check_number("linear", linear, 0)
        check_number("offset", offset)
        check_number("x0_scale", x0_scale)
        if radius is not None:
            check_number("radius", radius, 0, low_open=True)
        instance_seed = check_seed("instance_seed", instance_seed)
        self.noise = noise_laws(noise, sigma_f, sigma_g1, sigma_g2, nu)
        self.params = dict(dim_x=dim_x, dim_y=dim_y, n=n, batch_size=batch_size, mu=mu, L_g=L_g, ridge=ridge,
                           cross=cross, f_mu=f_mu, L_f=L_f, linear=linear, offset=offset, x0_scale=x0_scale,
                           radius=radius, instance_seed=instance_seed, noise=noise, sigma_f=sigma_f, sigma_g1=sigma_g1,
                           sigma_g2=sigma_g2, nu=nu, sampling=sampling)

        gen = torch.Generator().manual_seed(instance_seed)
        dx, dy, dim = dim_x, dim_y, dim_x + dim_y
        self.mu0 = ridge * mu
        S_g = _spd(dy, mu - self.mu0, L_g - self.mu0, gen)
        a = _recoloured(n, S_g, gen)
        r = fs.whitened(torch.randn(n, dy, generator=gen, dtype=torch.float64))
        C = torch.randn(dx, dy, generator=gen, dtype=torch.float64)
        C = C * (cross / torch.linalg.matrix_norm(C, ord=2))
        h = _linear_terms(n, dy, linear, offset, gen)
        w = _recoloured(n, _spd(dim, f_mu, L_f, gen), gen)
        l = _linear_terms(n, dim, linear, offset, gen)

        # population quantities, as the exact averages of the stored samples
        S_g, S_f = a.T @ a / n, w.T @ w / n
        H = self.mu0 * torch.eye(dy, dtype=torch.float64) + S_g
        H = 0.5 * (H + H.T)
        C_pop = C @ (r.T @ r / n)
        F = 0.5 * (S_f + S_f.T)
        h_pop, l_pop = h.mean(dim=0), l.mean(dim=0)
        H_inv = torch.linalg.inv(H)
        J = -C_pop @ H_inv                        # y*(x) = x @ J + y_c   (row convention; J is dx x dy)
        y_c = -h_pop @ H_inv
        P = torch.cat((torch.eye(dx, dtype=torch.float64), J), dim=1)
        H_phi = P @ F @ P.T
        H_phi = 0.5 * (H_phi + H_phi.T)
        q_phi = P @ (F[:, dx:] @ y_c + l_pop)     # grad Phi(x) = x @ H_phi + q_phi
        x_min = -torch.linalg.solve(H_phi, q_phi)

        dev = self.device
        self.a, self.r, self.C, self.h, self.w, self.l = (t.to(dev) for t in (a, r, C, h, w, l))
        self.H, self.H_inv, self.C_pop, self.F = (t.to(dev) for t in (H, H_inv, C_pop, F))
        self.h_pop, self.l_pop, self.J, self.y_c = (t.to(dev) for t in (h_pop, l_pop, J, y_c))
        self.H_phi, self.q_phi, self.x_min = (t.to(dev) for t in (H_phi, q_phi, x_min))
        self._x0 = (x0_scale * torch.ones(dx, dtype=torch.float64)).to(dev)

        # ---- certified constants (see module docstring) ----
        def norm(m):
            return float(torch.linalg.matrix_norm(m, ord=2))

        rho = radius if radius is not None else 2.0 * max(float(self._x0.norm()), float(x_min.norm()), 1.0)
        rho_y = 2.0 * max(norm(J) * rho + float(y_c.norm()), 1.0)
        self.radius, self.radius_y = float(rho), float(rho_y)
        G = F[dx:, :dx] + F[dx:, dx:] @ J.T
        c0 = F[dx:, dx:] @ y_c + l_pop[dx:]
        joint = torch.zeros(dim, dim, dtype=torch.float64)
        joint[:dx, dx:], joint[dx:, :dx], joint[dx:, dx:] = C_pop, C_pop.T, H

        dev_H = fs.psd_deviation_bound(a, S_g)
        r_sq = (r * r).sum(dim=1)
        dev_C = norm(C) * float(torch.maximum((r_sq - 1).abs(), torch.ones_like(r_sq)).max())
        dev_h = float((h - h_pop).norm(dim=1).max())
        dev_F = fs.psd_deviation_bound(w, S_f)
        dev_l = float((l - l_pop).norm(dim=1).max())
        self.minibatch_sigma = {
            "grad_f": dev_F * math.hypot(rho, rho_y) + dev_l,
            "grad_g": dev_H * rho_y + dev_C * rho + dev_h,
            "hvp": dev_H,
            "jvp": dev_C,
        }
        eig_H = torch.linalg.eigvalsh(H)
        laws = self.noise
        phi_min = float(self.phi(x_min.unsqueeze(0).to(dev))[0])
        self.constants = certify(
            self.params,
            L_x0=norm(F[:dx, :]), L_x1=0.0, L_y0=norm(F[dx:, :]), L_y1=0.0,
            l_f0=norm(G) * rho + float(c0.norm()),
            mu=float(eig_H[0]),
            l_g1=max(float(torch.linalg.eigvalsh(joint).abs().max()), float(eig_H[-1])),  # equal up to rounding
            l_g2=0.0,
            sigma_f=self.minibatch_sigma["grad_f"] + laws["grad_f"].sigma,
            sigma_g1=self.minibatch_sigma["grad_g"] + laws["grad_g"].sigma,
            sigma_g2=max(dev_H + laws["hvp"].sigma, dev_C + laws["jvp"].sigma),
            noise_bounded=all(law.almost_surely_bounded for law in laws.values()),
            phi_L0=norm(H_phi), phi_L1=0.0, phi_inf=phi_min,
        )

    # ---- exact (population) quantities ------------------------------------------------
    def _u(self, x, y):
        return torch.cat((x, y), dim=1)

    def f(self, x, y):
        u = self._u(x, y)
        return 0.5 * ((u @ self.F) * u).sum(dim=1) + u @ self.l_pop

    def g(self, x, y):
        return 0.5 * ((y @ self.H) * y).sum(dim=1) + ((x @ self.C_pop) * y).sum(dim=1) + y @ self.h_pop

    def grad_f(self, x, y):
        grad = self._u(x, y) @ self.F + self.l_pop
        return grad[:, :self.dim_x], grad[:, self.dim_x:]

    def grad_y_g(self, x, y):
        return y @ self.H + x @ self.C_pop + self.h_pop

    def hvp_yy(self, x, y, v):
        return v @ self.H

    def jvp_xy(self, x, y, v):
        return v @ self.C_pop.T

    def hessian_yy(self, x, y):
        return self.H.expand(x.shape[0], self.dim_y, self.dim_y)

    def y_star(self, x):
        return x @ self.J + self.y_c

    def z_star(self, x):
        _, gy = self.grad_f(x, self.y_star(x))
        return gy @ self.H_inv

    def phi(self, x):
        return self.f(x, self.y_star(x))

    def grad_phi(self, x):
        return x @ self.H_phi + self.q_phi

    @property
    def x0(self):
        return self._x0

    # ---- per-sample functions (for autograd checks and benchmarks) ---------------------
    def minibatch_f(self, x, y, idx):
        """(1/b) sum_j f_{idx_j}(x, y) for an (R, b) index tensor."""
        u, w = self._u(x, y), self.w[idx]
        return 0.5 * (torch.einsum("rbd,rd->rb", w, u) ** 2).mean(dim=1) + (self.l[idx] * u[:, None]).sum(2).mean(1)

    def minibatch_g(self, x, y, idx):
        """(1/b) sum_j g_{idx_j}(x, y) for an (R, b) index tensor."""
        a, r = self.a[idx], self.r[idx]
        quad = 0.5 * self.mu0 * (y * y).sum(dim=1) + 0.5 * (torch.einsum("rbd,rd->rb", a, y) ** 2).mean(dim=1)
        cross = (torch.einsum("rbd,rd->rb", r, x @ self.C) * torch.einsum("rbd,rd->rb", r, y)).mean(dim=1)
        return quad + cross + (self.h[idx] * y[:, None]).sum(2).mean(1)

    def samples(self) -> tuple[dict, dict]:
        """This instance as per-sample arrays (inner, outer) in the form ``quadratic_samples`` takes
        (benchopt's simulated quadratic): g_i has hess_y = mu0 I + a_i a_i^T, cross = C r_i r_i^T,
        linear_y = h_i; f_i = 1/2 (w_i^T u)^2 + l_i^T u splits into hess_x, cross, hess_y, linear_x, linear_y."""
        dx, dy, n = self.dim_x, self.dim_y, self.n
        eye = torch.eye(dy, dtype=self.dtype, device=self.device)
        inner = {"hess_y": self.mu0 * eye + self.a[:, :, None] * self.a[:, None, :],
                 "hess_x": torch.zeros(n, dx, dx, dtype=self.dtype, device=self.device),
                 "cross": (self.C @ self.r.T).T[:, :, None] * self.r[:, None, :],
                 "linear_y": self.h, "linear_x": torch.zeros(n, dx, dtype=self.dtype, device=self.device)}
        wx, wy = self.w[:, :dx], self.w[:, dx:]
        outer = {"hess_y": wy[:, :, None] * wy[:, None, :], "hess_x": wx[:, :, None] * wx[:, None, :],
                 "cross": wx[:, :, None] * wy[:, None, :], "linear_y": self.l[:, dx:], "linear_x": self.l[:, :dx]}
        return inner, outer

    # ---- minibatch oracles ------------------------------------------------------------
    def sample_grad_f(self, x, y, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_UPPER, self.sampling)
        grad = batch.rank_one(self.w, self._u(x, y)) + batch.mean(self.l)
        return fs.add_noise(self, "grad_f", (grad[:, :self.dim_x], grad[:, self.dim_x:]), draw)

    def sample_grad_g(self, x, y, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER, self.sampling)
        grad = self.mu0 * y + batch.rank_one(self.a, y) + batch.rank_one(self.r, x @ self.C) + batch.mean(self.h)
        return fs.add_noise(self, "grad_g", (grad,), draw)[0]

    def _hvp(self, batch, v):
        return self.mu0 * v + batch.rank_one(self.a, v)

    def _jvp(self, batch, v):
        return batch.rank_one(self.r, v) @ self.C.T

    def sample_hvp(self, x, y, v, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER, self.sampling)
        return fs.add_noise(self, "hvp", (self._hvp(batch, v),), draw, torch.linalg.vector_norm(v, dim=1))[0]

    def sample_jvp(self, x, y, v, draw):
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER, self.sampling)
        return fs.add_noise(self, "jvp", (self._jvp(batch, v),), draw, torch.linalg.vector_norm(v, dim=1))[0]

    def sample_hvp_jvp(self, x, y, v, draw):
        """Both products on one minibatch (one vector-Jacobian product of grad_y G on the same samples)."""
        batch = fs.minibatch(draw, self.n, self.batch_size, fs.SUB_LOWER, self.sampling)
        scale = torch.linalg.vector_norm(v, dim=1)
        hv = fs.add_noise(self, "hvp", (self._hvp(batch, v),), draw, scale)[0]
        jv = fs.add_noise(self, "jvp", (self._jvp(batch, v),), draw, scale)[0]
        return hv, jv


def quadratic(**params) -> Quadratic:
    """Bounded-smooth finite-sum baseline (benchopt-like simulated quadratic, minibatch noise)."""
    return Quadratic(**params)
