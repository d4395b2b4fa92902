"""Families F2 (decoupled) and F3 (coupled): (L0, L1)-smooth upper level over a quadratic lower level.

    f(x, y) = U(x) + c sum_j logcosh(y_j - (K x)_j - t_j)        (F2: K = 0)
    g(x, y) = 1/2 y^T A y - y^T B x,   spec(A) log-spaced in [mu, L_g]

Ground truth (J = A^-1 B, M = J - K):
    y*(x) = J x,   z*(x) = c A^-1 tanh(M x - t),   Phi(x) = U(x) + c sum logcosh(M x - t)
    grad Phi(x) = grad U(x) + c M^T tanh(M x - t)
    grad2_yy g = A,  grad2_xy g = -B^T  (so l_g2 = 0),  grad_y g = A y - B x

Certified constants (Hessian form, by the rules of docs/background.md section 2; D = diag(sech^2) <= I):
    U is (L0_U, L1) with L0_U = L0 + alpha omega^2 + alpha omega L1 (synthetic.landscape).
    d/du grad_x f = [grad2 U + c K^T D K, -c K^T D] = grad2 U + c K^T D [K, -I]; ||[K, -I]|| = sqrt(1 + |K|^2)
      and ||grad U|| <= ||grad_x f|| + c |K| sqrt(d_y), so
      L_x0 = L0_U + c |K| sqrt(1 + |K|^2) + L1 c |K| sqrt(d_y),   L_x1 = L1.
    d/du grad_y f = c D [-K, I]:  L_y0 = c sqrt(1 + |K|^2),  L_y1 = 0.
    |grad_y f| = c |tanh| <= c sqrt(d_y) everywhere:  l_f0 = c sqrt(d_y).
    mu = lambda_min(A);  l_g1 = ||[[0, -B^T], [-B, A]]|| (joint Hessian of g);  l_g2 = 0.
    grad2 Phi = grad2 U + c M^T D M, |grad U| <= |grad Phi| + c |M| sqrt(d_y):
      Phi is (L0_U + c |M|^2 + L1 c |M| sqrt(d_y), L1)-smooth;  inf Phi >= inf U (logcosh >= 0).
"""

from __future__ import annotations

import math

import torch

from ubo.synthetic.landscape import CoshLandscape, random_orthogonal, spectrum
from ubo.synthetic.problem import (BilevelProblem, certify, check_number, check_positive_int, check_seed,
                                   noise_laws)


def logcosh(w: torch.Tensor) -> torch.Tensor:
    """log(cosh w), stable for large |w|."""
    a = w.abs()
    return a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)


def _scaled(matrix: torch.Tensor, norm: float) -> torch.Tensor:
    """Rescale to spectral norm ``norm`` (zero matrix when norm == 0)."""
    if norm == 0:
        return torch.zeros_like(matrix)
    return matrix * (norm / torch.linalg.matrix_norm(matrix, ord=2))


class LogcoshBilevel(BilevelProblem):
    def __init__(self, dim_x: int = 10, dim_y: int = 10, L0: float = 1.0, L1: float = 1.0,
                 alpha: float = 0.5, omega: float = 2.0, c: float = 1.0, mu: float = 0.5,
                 L_g: float = 5.0, cross: float = 1.0, coupling: float = 0.5, x0_scale: float = 2.5,
                 rotate: bool = True, instance_seed: int = 0, noise: str | dict = "none",
                 sigma_f: float | None = None, sigma_g1: float | None = None, sigma_g2: float | None = None,
                 nu: float = 4.0,
                 device: str = "cpu", name: str = "coupled"):
        super().__init__(device=device)
        self.name = name
        self.dim_x = check_positive_int("dim_x", dim_x)
        self.dim_y = check_positive_int("dim_y", dim_y)
        check_number("L0", L0, 0, low_open=True)
        check_number("L1", L1, 0)
        check_number("alpha", alpha, 0)
        check_number("omega", omega, 0)
        check_number("c", c, 0)
        check_number("mu", mu, 0, low_open=True)
        check_number("L_g", L_g, mu)
        check_number("cross", cross, 0)
        check_number("coupling", coupling, 0)
        check_number("x0_scale", x0_scale)
        instance_seed = check_seed("instance_seed", instance_seed)
        self.noise = noise_laws(noise, sigma_f, sigma_g1, sigma_g2, nu)
        self.params = dict(dim_x=dim_x, dim_y=dim_y, L0=L0, L1=L1, alpha=alpha, omega=omega, c=c, mu=mu,
                           L_g=L_g, cross=cross, coupling=coupling, x0_scale=x0_scale, rotate=rotate,
                           instance_seed=instance_seed, noise=noise, sigma_f=sigma_f, sigma_g1=sigma_g1,
                           sigma_g2=sigma_g2, nu=nu)

        gen = torch.Generator().manual_seed(instance_seed)
        rotation = random_orthogonal(dim_x, gen) if rotate else None
        q = random_orthogonal(dim_y, gen)
        A = q @ torch.diag(spectrum(dim_y, mu, L_g)) @ q.T
        A = 0.5 * (A + A.T)
        B = _scaled(torch.randn(dim_y, dim_x, generator=gen, dtype=torch.float64), cross)
        K = _scaled(torch.randn(dim_y, dim_x, generator=gen, dtype=torch.float64), coupling)
        t = torch.randn(dim_y, generator=gen, dtype=torch.float64)
        J = torch.linalg.solve(A, B)
        M = J - K
        self.c = float(c)
        dev = self.device
        self.A, self.B, self.K, self.t, self.J, self.M = (m.to(dev) for m in (A, B, K, t, J, M))
        self.A_inv = torch.linalg.inv(A).to(dev)
        # contiguous operands of the oracles' products, made once (fewer kernels per call)
        self._KT, self._BT, self._negB = K.T.contiguous().to(dev), B.T.contiguous().to(dev), (-B).to(dev)
        self._A_negB = torch.cat((A, -B), dim=1).to(dev)  # v @ [A, -B] = (hvp, jvp) in one product
        self.U = CoshLandscape(dim_x, L0, L1, alpha, omega, None if rotation is None else rotation.to(dev))
        self._x0 = (x0_scale * torch.ones(dim_x, dtype=torch.float64))
        if rotation is not None:
            self._x0 = self._x0 @ rotation  # so that R x0 = x0_scale * 1
        self._x0 = self._x0.to(dev)
        self.U.check_start(self._x0)

        L0_U, L1_U = self.U.certified
        nK = float(torch.linalg.matrix_norm(K, ord=2))
        nM = float(torch.linalg.matrix_norm(M, ord=2))
        joint = torch.zeros(dim_x + dim_y, dim_x + dim_y, dtype=torch.float64)
        joint[:dim_x, dim_x:] = -B.T
        joint[dim_x:, :dim_x] = -B
        joint[dim_x:, dim_x:] = A
        l_g1 = float(torch.linalg.eigvalsh(joint).abs().max())
        root_dy = math.sqrt(dim_y)
        laws = self.noise
        self.constants = certify(
            self.params,
            L_x0=L0_U + c * nK * math.sqrt(1 + nK**2) + L1_U * c * nK * root_dy,
            L_x1=L1_U,
            L_y0=c * math.sqrt(1 + nK**2),
            L_y1=0.0,
            l_f0=c * root_dy,
            mu=float(mu),
            l_g1=max(l_g1, float(L_g)),
            l_g2=0.0,
            sigma_f=laws["grad_f"].sigma,
            sigma_g1=laws["grad_g"].sigma,
            sigma_g2=max(laws["hvp"].sigma, laws["jvp"].sigma),
            noise_bounded=all(law.almost_surely_bounded for law in laws.values()),
            phi_L0=L0_U + c * nM**2 + L1_U * c * nM * root_dy,
            phi_L1=L1_U,
            phi_inf=self.U.infimum(),
        )

    # ---- exact quantities -----------------------------------------------------------
    def _w(self, x, y):
        return y - x @ self._KT - self.t

    def f(self, x, y):
        return self.U.value(x) + self.c * logcosh(self._w(x, y)).sum(dim=-1)

    def g(self, x, y):
        return 0.5 * ((y @ self.A) * y).sum(dim=-1) - ((x @ self.B.T) * y).sum(dim=-1)

    def grad_f(self, x, y):
        th = self.c * torch.tanh(self._w(x, y))
        return self.U.grad(x) - th @ self.K, th

    def grad_y_g(self, x, y):
        return y @ self.A - x @ self._BT

    def hvp_yy(self, x, y, v):
        return v @ self.A

    def jvp_xy(self, x, y, v):
        return v @ self._negB

    def hvp_jvp_xy(self, x, y, v):
        both = v @ self._A_negB
        return both[:, :self.dim_y], both[:, self.dim_y:]

    def hessian_yy(self, x, y):
        return self.A.expand(x.shape[0], self.dim_y, self.dim_y)

    def y_star(self, x):
        return x @ self.J.T

    def z_star(self, x):
        return self.c * torch.tanh(x @ self.M.T - self.t) @ self.A_inv

    def phi(self, x):
        return self.U.value(x) + self.c * logcosh(x @ self.M.T - self.t).sum(dim=-1)

    def grad_phi(self, x):
        return self.U.grad(x) + self.c * torch.tanh(x @ self.M.T - self.t) @ self.M

    @property
    def x0(self):
        return self._x0

    @property
    def drift_lipschitz(self) -> float:
        """||J||: y* moves by at most ||J|| eta when x moves by eta (<= kappa)."""
        return float(torch.linalg.matrix_norm(self.J, ord=2))

    def surrogate_bias_factor(self) -> float:
        """c ||M||: ||grad_x f + J^T grad_y f at (x, y) - grad Phi(x)|| <= c ||M|| ||y - y*(x)||."""
        return self.c * float(torch.linalg.matrix_norm(self.M, ord=2))


def coupled(**params) -> LogcoshBilevel:
    """F3: grad_x f depends on y through K (hypergradient-bias and tracking probes)."""
    params.setdefault("coupling", 0.5)
    return LogcoshBilevel(name="coupled", **params)


def decoupled(**params) -> LogcoshBilevel:
    """F2: f = U(x) + c sum logcosh(y - t); the BO-REP / SLIP shape with exact drift ||J|| eta."""
    if params.get("coupling", 0.0) != 0.0:
        raise ValueError(f"coupling must be 0 for the decoupled family, got {params['coupling']!r}")
    params["coupling"] = 0.0
    return LogcoshBilevel(name="decoupled", **params)


def make_phi_problem(name: str, phi_L0: float, phi_L1: float, **params) -> LogcoshBilevel:
    """A ``coupled`` or ``decoupled`` instance whose hyperobjective Phi is certified (phi_L0, phi_L1)-smooth.

    Phi's certified pair is (L0 + alpha omega^2 + alpha omega L1 + c |M|^2 + L1 c |M| sqrt(d_y), L1)
    (module docstring), and |M| does not depend on L0, L1, alpha, omega or c; so L1 = phi_L1 and L0 is
    solved from phi_L0. A phi_L0 below what the other parameters already give raises ValueError with
    that minimum.
    """
    from ubo.synthetic.registry import make_problem

    if name not in ("coupled", "decoupled"):
        raise ValueError(f"make_phi_problem supports 'coupled' and 'decoupled', got {name!r}")
    for key in ("L0", "L1"):
        if key in params:
            raise ValueError(f"pass phi_L0 and phi_L1 instead of {key}: L0, L1 are derived from them")
    phi_L0 = check_number("phi_L0", phi_L0, 0, low_open=True)
    phi_L1 = check_number("phi_L1", phi_L1, 0)
    rest = make_problem(name, L0=1.0, L1=phi_L1, **params).constants.phi_L0 - 1.0
    if phi_L0 <= rest:
        raise ValueError(f"phi_L0 must be > {rest:.6g} for these parameters (the cosine term and the coupling "
                         f"alone give Phi that much), got {phi_L0!r}; lower alpha, omega, c or coupling")
    return make_problem(name, L0=phi_L0 - rest, L1=phi_L1, **params)
