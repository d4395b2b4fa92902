"""BO-REP: normalized momentum with initialization refinement and periodic lower-level updates.

J. Hao, X. Gong, M. Liu, "Bilevel Optimization under Unbounded Smoothness: A New Algorithm and
Convergence Analysis", ICLR 2024 (arXiv:2401.09587). [confirmed] from the paper's abstract and reviews:
normalized momentum on x, a multi-epoch initialization refinement at x_0, the lower level updated only
every I iterations (I = Theta(eps^-2)), a ball radius R in the algorithm, the z-form estimator (released
code). Reconstructed (the paper's text could not be re-read): the indexing, the projection of z on the
ball of radius l_f0 / mu, h_k using z_k, UpdateLower returning its last iterate, the Epoch-SGD schedule
of E. Hazan and S. Kale (JMLR 2014)::

    y_0 <- EpochSGD(g(x_0, .), y_init)                              # initialization refinement
    for k = 0, ..., K-1:
        if k mod I == 0 and k > 0:                                   # UpdateLower: N SGD steps at x_k
            repeat N times: y <- y - gamma grad_y G(x_k, y; pi)        (fresh sample each step)
        h_k     = grad_x F(x_k, y_k; xi_k) - grad2_xy G(x_k, y_k; zeta_k) z_k
        z_{k+1} = Pi_{||z|| <= R}( z_k - nu [grad2_yy G(x_k, y_k; zeta_k) z_k - grad_y F(x_k, y_k; xi_k)] )
        m_k     = beta m_{k-1} + (1 - beta) h_k                     # beta weighs the old momentum
        x_{k+1} = x_k - eta m_k / ||m_k||

Oracle calls per iteration: 1 grad_f, 1 fused hvp+jvp, plus N grad_g every I iterations;
Epoch-SGD costs first_epoch (2^epochs - 1) grad_g calls once (algorithms.lower.epoch_sgd).
Guarantee (BO-REP, Theorem 1; number unverified): (1/K) sum_k E||grad Phi(x_k)|| <= eps with probability
>= 1 - delta over the lower-level randomness, O~(eps^-4) oracle calls; I = Theta(eps^-2),
N = Theta~(eps^-2) (parameters in theory/parameters.py ``borep``).

Options reproducing the released code (off by default): ``z_radius = inf`` (no projection),
``z_init = "random"``, ``epochs = 0`` (no Epoch-SGD refinement), ``jacobian_new_z`` (the Jacobian term
uses the updated z_{k+1}), ``lower_accumulate`` (the refresh's gradients accumulate: step s uses the sum
of the first s gradients, no zero_grad between steps).

Hyperparameters:
    eta               upper step length (every step moves x by exactly eta)
    beta              momentum weight of the old momentum, in [0, 1)
    gamma             lower-level SGD step size of the periodic refresh
    nu                z-SGD step size
    period            I: the lower level is refreshed every I iterations
    lower_steps       N: SGD steps per refresh
    epoch_gamma       Epoch-SGD's first step size (halved every epoch)
    epochs            Epoch-SGD epochs (0: no initialization refinement)
    first_epoch       length of Epoch-SGD's first epoch (doubled every epoch)
    epoch_radius      Epoch-SGD's first ball radius around the epoch start (shrinks by 2^-1/2 per epoch)
    z_radius          z-projection radius R: "paper" (default: l_f0 / mu from the problem's certified
                      constants; none when the problem has none), a number, or inf (released code)
    z_init            z_0: "zero" (paper) or "random" (released code)
    z_init_seed       seed of the random z_0
    jacobian_new_z    Jacobian term at z_{k+1} on its own sample (released code)
    lower_accumulate  accumulate the refresh's gradients (released code)
    task_batch        K >= 1 "tasks" per x step (released code; 1 = paper): the z and momentum lines run K
                      times at fixed (x_t, y_t) on fresh samples and x steps along the normalized mean of the K
                      successive momentum states; the periodic refresh stays once per x step
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ubo.algorithms import upper
from ubo.algorithms.base import POSITIVE, RADIUS, UNIT_RIGHT_OPEN, Algorithm
from ubo.algorithms.hypergradient import resolve_z_radius, z_sgd_step
from ubo.algorithms.lower import accumulated_sgd_steps, epoch_sgd, sgd_steps
from ubo.algorithms.slip import initial_z
from ubo.algorithms.state import State


@dataclass(frozen=True)
class BOREP(Algorithm):
    eta: float = 1e-2
    beta: float = 0.9
    gamma: float = 0.1
    nu: float = 0.1
    period: int = 2
    lower_steps: int = 3
    epoch_gamma: float = 0.1
    epochs: int = 3
    first_epoch: int = 10
    epoch_radius: float = math.inf
    z_radius: float | str = "paper"
    z_init: str = "zero"
    z_init_seed: int = 0
    jacobian_new_z: bool = False
    lower_accumulate: bool = False
    task_batch: int = 1

    name: ClassVar[str] = "borep"
    _reals: ClassVar[dict] = {"eta": POSITIVE, "beta": UNIT_RIGHT_OPEN, "gamma": POSITIVE, "nu": POSITIVE,
                              "epoch_gamma": POSITIVE, "epoch_radius": RADIUS}
    _ints: ClassVar[dict] = {"period": 1, "lower_steps": 0, "epochs": 0, "first_epoch": 1, "z_init_seed": 0,
                             "task_batch": 1}
    _choices: ClassVar[dict] = {"z_init": ("zero", "random")}
    _flags: ClassVar[tuple] = ("jacobian_new_z", "lower_accumulate")
    _auto: ClassVar[dict] = {"z_radius": ("paper", RADIUS)}

    def init(self, oracle, x0, y0) -> State:
        y = epoch_sgd(oracle, x0, y0, self.epoch_gamma, self.first_epoch, self.epochs, self.epoch_radius)
        return State(x=x0, y=y, z=initial_z(y, self.z_init, self.z_init_seed), m=torch.zeros_like(x0))

    def step(self, oracle, s: State) -> State:
        y, radius = s.y, resolve_z_radius(self.z_radius, oracle.problem)
        if s.t % self.period == 0 and s.t > 0:
            lower = accumulated_sgd_steps if self.lower_accumulate else sgd_steps
            y = lower(oracle, s.x, y, self.gamma, self.lower_steps)
        z, m, momenta = s.z, s.m, 0.0
        for _ in range(self.task_batch):  # task_batch = 1: the paper's iteration
            gx, gy = oracle.grad_f(s.x, y)
            if self.jacobian_new_z:  # released code: Jacobian on its own sample, at z_{k+1}
                z = z_sgd_step(z, oracle.hvp(s.x, y, z), gy, self.nu, radius)
                jz = oracle.jvp(s.x, y, z)
            else:
                hz, jz = oracle.hvp_jvp(s.x, y, z)
                z = z_sgd_step(z, hz, gy, self.nu, radius)
            h = gx - jz
            m = upper.momentum(m, h, self.beta)
            momenta = momenta + m
        return State(x=upper.normalized_step(s.x, momenta / self.task_batch, self.eta), y=y, z=z, m=m, h=h,
                     t=s.t + 1)
