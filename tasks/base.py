"""Realistic text tasks behind the shared bilevel protocol (synthetic.problem.BilevelProblem).

A task holds token pools ('lower' for g, 'upper' for f, 'test' for metrics) and two samplers.
Its losses take a batch = (indices (R, B) into a pool, weights (R, B)); the stochastic oracles
draw the indices from the oracle call's ``Draw`` (sub-streams 0..3), the exact quantities use
the whole pool with the samplers' expected weights, so every oracle is unbiased for the exact
f, g by construction.

Derivatives are autograd on the loss summed over runs: run r's parameters only touch run r's
loss, so the Hessian of the sum is block diagonal and one double backward returns all R
per-run products. The Hessian- and Jacobian-vector products come
from ONE vector-Jacobian product of grad_y G:  d/d(x, y) <grad_y G(x, y; zeta), v> =
(grad2_xy G v, grad2_yy G v). Second-order forward passes run under
``torch.backends.cudnn.flags(enabled=False)`` (double backward through cuDNN RNNs is not
supported); the encoders here never use cuDNN, so the flag is a guard, not a requirement.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ubo.synthetic.problem import BilevelProblem, noise_laws
from ubo.synthetic.rng import Draw
from ubo.tasks.sampling import StratifiedSampler

SUB_UPPER, SUB_LOWER = 0, 2  # Draw sub-streams (each sampler uses sub and sub + 1)


@dataclass
class Pool:
    """Encoded examples: tokens (N, L), lengths (N,), labels (N,)."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device) -> "Pool":
        return Pool(self.tokens.to(device), self.lengths.to(device), self.labels.to(device))


def _second_order():
    return torch.backends.cudnn.flags(enabled=False)


class TextBilevelTask(BilevelProblem):
    """Base of the text tasks. Subclasses set pools, samplers, dims, x0/y0 and the two losses."""

    name = "text_task"
    assumptions: str = ""  # which of the papers' assumptions the lower level meets (stated per task)
    eval_size: int = 512   # examples per pool behind the hypergradient-norm estimate
    pools: dict[str, Pool]
    lower_sampler: StratifiedSampler
    upper_sampler: StratifiedSampler

    def __init__(self, device, dtype, ground_truth: bool):
        super().__init__(device=device, dtype=dtype)
        self.has_ground_truth = bool(ground_truth)
        self.noise = noise_laws("none", 0.0, 0.0, 0.0, 4.0)

    real_data: str = "a real corpus"  # what data='real' reads (stated per task)

    def _resolve(self, size: str, presets: dict, params: dict) -> dict:
        """The preset of ``size`` updated by params (unknown keys raise ValueError); remembered for repr."""
        from ubo.tasks.building import resolve

        self.size, self.overrides = size, dict(params)
        return resolve(self.name, size, presets, params)

    def __repr__(self) -> str:
        """A call that rebuilds the task: make_task(name, size=..., **the parameters that differ from the preset)."""
        extra = "".join(f", {k}={v!r}" for k, v in getattr(self, "overrides", {}).items())
        if self.device.type != "cpu":
            extra += f", device={str(self.device)!r}"
        return f"make_task({self.name!r}, size={getattr(self, 'size', 'small')!r}{extra})"

    @property
    def data_source(self) -> str:
        """Which data the task was built from: the real corpus or the generated grammar."""
        if getattr(self, "params", {}).get("data", "real") == "grammar":
            return "generated negation grammar (tasks.data.grammar; synthetic text, no corpus)"
        return self.real_data

    # ---- to implement ---------------------------------------------------------------
    def lower_loss(self, x, y, idx, weights) -> torch.Tensor:
        """(R,) G(x, y; batch) on the 'lower' pool."""
        raise NotImplementedError

    def upper_loss(self, x, y, idx, weights) -> torch.Tensor:
        """(R,) F(x, y; batch) on the 'upper' pool."""
        raise NotImplementedError

    # ---- batches --------------------------------------------------------------------
    def full_batch(self, which: str, runs: int):
        sampler = self.lower_sampler if which == "lower" else self.upper_sampler
        n = len(self.pools[which])
        idx = torch.arange(n, device=self.device).expand(runs, n)
        return idx, sampler.exact_weights().to(self.device, self.dtype).expand(runs, n)

    def _batch(self, which: str, draw: Draw):
        sampler, sub = (self.lower_sampler, SUB_LOWER) if which == "lower" else (self.upper_sampler, SUB_UPPER)
        idx = sampler.sample(draw, sub).to(self.device)
        return idx, torch.full(idx.shape, 1.0 / idx.shape[1], dtype=self.dtype, device=self.device)

    # ---- autograd machinery ---------------------------------------------------------
    def _grads(self, loss, x, y, batch, wrt_x: bool):
        with torch.enable_grad():
            xr = x.detach().requires_grad_(wrt_x)
            yr = y.detach().requires_grad_(True)
            inputs = (xr, yr) if wrt_x else (yr,)
            grads = torch.autograd.grad(loss(xr, yr, *batch).sum(), inputs, allow_unused=True)
        return tuple(torch.zeros_like(t) if g is None else g for g, t in zip(grads, inputs))

    def _second(self, x, y, v, batch, want_hvp: bool, want_jvp: bool):
        with torch.enable_grad(), _second_order():
            xr = x.detach().requires_grad_(want_jvp)
            yr = y.detach().requires_grad_(True)
            (gy,) = torch.autograd.grad(self.lower_loss(xr, yr, *batch).sum(), yr, create_graph=True)
            inputs = tuple(t for t, w in ((xr, want_jvp), (yr, want_hvp)) if w)
            out = torch.autograd.grad((gy * v).sum(), inputs, allow_unused=True)
        out = [torch.zeros_like(t) if o is None else o.detach() for o, t in zip(out, inputs)]
        return out

    # ---- exact quantities (whole pools) ---------------------------------------------
    def f(self, x, y):
        with torch.no_grad():
            return self.upper_loss(x, y, *self.full_batch("upper", x.shape[0]))

    def g(self, x, y):
        with torch.no_grad():
            return self.lower_loss(x, y, *self.full_batch("lower", x.shape[0]))

    def grad_f(self, x, y):
        return self._grads(self.upper_loss, x, y, self.full_batch("upper", x.shape[0]), True)

    def grad_y_g(self, x, y):
        return self._grads(self.lower_loss, x, y, self.full_batch("lower", x.shape[0]), False)[0]

    def hvp_yy(self, x, y, v):
        return self._second(x, y, v, self.full_batch("lower", x.shape[0]), True, False)[0]

    def jvp_xy(self, x, y, v):
        return self._second(x, y, v, self.full_batch("lower", x.shape[0]), False, True)[0]

    def hessian_yy(self, x, y):
        """Column by column from hvp_yy (subclasses with a closed form override it)."""
        eye = torch.eye(self.dim_y, dtype=self.dtype, device=self.device)
        cols = [self.hvp_yy(x, y, eye[j].expand_as(y)) for j in range(self.dim_y)]
        return torch.stack(cols, dim=-1)

    # ---- hypergradient estimate (no ground truth needed) ---------------------------------
    def eval_batch(self, which: str, runs: int):
        """A fixed evaluation subset: eval_size examples spread evenly over the pool, weights renormalised."""
        idx, weights = self.full_batch(which, runs)
        n = idx.shape[1]
        keep = torch.linspace(0, n - 1, min(self.eval_size, n), device=self.device).round().long()
        weights = weights[:, keep]
        return idx[:, keep], weights / weights.sum(1, keepdim=True)

    def subset_hessian(self, x, y, idx, weights) -> torch.Tensor:
        """grad2_yy G on a batch, (R, dim_y, dim_y); column by column unless a subclass has a closed form."""
        eye = torch.eye(self.dim_y, dtype=self.dtype, device=self.device)
        cols = [self._second(x, y, eye[j].expand_as(y), (idx, weights), True, False)[0] for j in range(self.dim_y)]
        return torch.stack(cols, dim=-1)

    def hypergradient_estimate(self, x, y) -> torch.Tensor:
        """grad_x F - grad2_xy G z with z = [grad2_yy G]^-1 grad_y F, at the current (x, y), on the fixed
        evaluation subsets (equal to grad Phi(x) at y = y*(x) when the subsets are the whole pools)."""
        upper, lower = self.eval_batch("upper", x.shape[0]), self.eval_batch("lower", x.shape[0])
        gx, gy = self._grads(self.upper_loss, x, y, upper, True)
        z = torch.linalg.solve(self.subset_hessian(x, y, *lower), gy.unsqueeze(-1)).squeeze(-1)
        return gx - self._second(x, y, z, lower, False, True)[0]

    def _need_ground_truth(self):
        if not self.has_ground_truth:
            raise ValueError(f"task {self.name!r} was built with ground_truth=False (y*, z*, grad Phi unavailable)")

    # ---- stochastic realisations ----------------------------------------------------
    def sample_grad_f(self, x, y, draw):
        return self._grads(self.upper_loss, x, y, self._batch("upper", draw), True)

    def sample_grad_g(self, x, y, draw):
        return self._grads(self.lower_loss, x, y, self._batch("lower", draw), False)[0]

    def grad_x_g(self, x, y):
        return self._grads(self.lower_loss, x, y, self.full_batch("lower", x.shape[0]), True)[0]

    def sample_grad_g_xy(self, x, y, draw):
        """(grad_x G, grad_y G) on one lower minibatch (F2SA's first-order oracle)."""
        return self._grads(self.lower_loss, x, y, self._batch("lower", draw), True)

    def sample_hvp(self, x, y, v, draw):
        return self._second(x, y, v, self._batch("lower", draw), True, False)[0]

    def sample_jvp(self, x, y, v, draw):
        return self._second(x, y, v, self._batch("lower", draw), False, True)[0]

    def sample_hvp_jvp(self, x, y, v, draw):
        jvp, hvp = self._second(x, y, v, self._batch("lower", draw), True, True)
        return hvp, jvp

    def describe(self) -> str:
        c = self.constants
        return (f"{self.name}: dim_x={self.dim_x}, dim_y={self.dim_y}, mu={c.mu:.4g}, "
                f"l_g1 (y-block)={c.l_g1:.4g}; {self.assumptions}")
