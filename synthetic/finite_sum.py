"""Shared pieces of the finite-sum families: minibatch averages and the additive noise on top.

A finite-sum family draws, per oracle call and per run, b sample indices and returns the average of
the per-sample derivatives, so its oracles are unbiased for the population (the average over all n
samples). The additive noise laws of ``BilevelProblem`` stay available on top and use the same
reserved sub-streams. Two samplers (``SAMPLINGS``):

    iid       b indices uniform on {0..n-1}, with replacement (``draw.integers(n, b, sub)``)
    shuffle   without replacement, reshuffled blocks per epoch (as benchopt's benchmark_bilevel samples):
              the k-th minibatch of a level is block k mod B of the permutation pi_e of epoch e = k // B
              (B = n // b blocks per epoch), i.e. pi_e[(k mod B) b : (k mod B + 1) b]; pi_e sorts 64 random
              bits per sample, drawn from (seed, run, epoch, sub-stream). Every epoch of a level visits
              B b distinct samples (all n when b divides n; the n - B b left over sit out that epoch).
              k is ``draw.level_call``, the call's index among its level's calls, which the Oracle counts
              (upper level: grad_f; lower level: the other calls), as benchopt counts each level's batches;
              a Draw made outside an Oracle uses its call counter instead.

Both are pure functions of (seed, run, k, sub-stream), and k is the same for every run: run r alone gets
the indices it gets inside a batch, a replayed draw gets the same minibatch.

Minibatch noise bound: with d_i = grad_i - grad (mean zero over i), the minibatch deviation
(1/b) sum_j d_{i_j} has norm <= max_i ||d_i|| almost surely (a mean of vectors in a ball stays
in the ball), and E||.||^2 = (1/b) mean_i ||d_i||^2 (sampling with replacement). The a.s.
bound does not shrink with b; only the variance does.
"""

from __future__ import annotations

import weakref

import torch

from ubo.synthetic import fused_minibatch
from ubo.synthetic.problem import _SUB_HVP, _SUB_JVP, _SUB_X, _SUB_Y
from ubo.synthetic.rng import Draw

Tensor = torch.Tensor

SUB_LOWER, SUB_UPPER = 0, 1  # sub-streams of the minibatch indices (lower-level g, upper-level f)
SAMPLINGS = ("iid", "shuffle")
_SUB_SHUFFLE = 100           # sub-stream of the epoch permutations: _SUB_SHUFFLE + sub, drawn with call = epoch

DENSE_RATIO = 0.5  # weight-matrix evaluation when n <= DENSE_RATIO * b * d (measured crossover, 1 thread)


class Minibatch:
    """The b sample indices of each run, idx (R, b), and the minibatch averages over them.

    Two equivalent evaluations: gather the (R, b, d) rows (cost ~ R b d), or multiply by the weight
    matrix w (R, n), w_ri = (number of times i was drawn in run r) / b, so that (1/b) sum_j data_{i_j}
    = w @ data (cost ~ R n, with matmul efficiency). Measured on one CPU thread at R = 1000, n = 1024,
    b = 64: gathers win at d = 10 (6 ms against 29 ms), weights at d = 200 (38 ms against 194 ms).
    ``dense`` forces one of them (None: weights when n <= DENSE_RATIO * b * d). On CPU float64 tensors
    without gradient the rows are not gathered but read in place by one numba loop (synthetic.fused_minibatch).
    """

    def __init__(self, idx: Tensor, n: int, dense: bool | None = None):
        self.idx, self.n, self.b, self.dense = idx, n, idx.shape[1], dense
        self._weights = None

    def _use_weights(self, d: int) -> bool:
        return self.dense if self.dense is not None else self.n <= DENSE_RATIO * self.b * d

    def weights(self, dtype: torch.dtype) -> Tensor:
        if self._weights is None:
            share = torch.full(self.idx.shape, 1.0 / self.b, dtype=dtype, device=self.idx.device)
            self._weights = torch.zeros(self.idx.shape[0], self.n, dtype=dtype, device=self.idx.device)
            self._weights.scatter_add_(1, self.idx, share)
        return self._weights

    def mean(self, data: Tensor) -> Tensor:
        """(1/b) sum_j data_{i_j}: data (n, d) -> (R, d)."""
        if self._use_weights(data.shape[1]):
            return self.weights(data.dtype) @ data
        if fused_minibatch.usable(data):
            return fused_minibatch.mean_rows(self.idx, data)
        return data[self.idx].mean(dim=1)

    def rank_one(self, data: Tensor, point: Tensor, labels: Tensor | None = None) -> Tensor:
        """(1/b) sum_j data_{i_j} (<data_{i_j}, point_r> - labels_{i_j}): data (n, d), point (R, d) -> (R, d)."""
        if self._use_weights(data.shape[1]):
            coef = point @ data.T
            if labels is not None:
                coef = coef - labels
            return (self.weights(data.dtype) * coef) @ data
        if fused_minibatch.usable(data, point, *(() if labels is None else (labels,))):
            return fused_minibatch.rank_one_rows(self.idx, data, point, labels)
        rows = data[self.idx]
        coef = torch.einsum("rbd,rd->rb", rows, point)
        if labels is not None:
            coef = coef - labels[self.idx]
        return torch.einsum("rb,rbd->rd", coef, rows) / self.b


def check_sampling(sampling: str, n: int, batch_size: int) -> str:
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    if sampling == "shuffle" and batch_size > n:
        raise ValueError(f"sampling='shuffle' draws without replacement: batch_size must be <= n = {n}, "
                         f"got {batch_size!r}")
    return sampling


_PERMUTATIONS: dict = {}  # id(keys) -> (weak reference to keys, {(n, sub): (epoch, permutation)})


def epoch_permutation(draw, n: int, sub: int, epoch: int) -> torch.Tensor:
    """(R, n) int64: run r's permutation of {0..n-1} for ``epoch`` of sub-stream ``sub`` (stable argsort of
    64 random bits per sample). The latest epoch is cached per generator (a pure function, so only a speed-up)."""
    entry = _PERMUTATIONS.get(id(draw.keys))
    if entry is None or entry[0]() is not draw.keys:
        for key in [k for k, (ref, _) in _PERMUTATIONS.items() if ref() is None]:
            del _PERMUTATIONS[key]
        entry = _PERMUTATIONS[id(draw.keys)] = (weakref.ref(draw.keys), {})
    cache = entry[1]
    hit = cache.get((n, sub))
    if hit is not None and hit[0] == epoch:
        return hit[1]
    bits = Draw(draw.keys, epoch, draw.dtype, draw._host_keys).bits(n, _SUB_SHUFFLE + sub)
    if fused_minibatch.AVAILABLE and bits.device.type == "cpu":
        perm = fused_minibatch.argsort_rows(bits)
    else:
        perm = torch.argsort(bits, dim=1, stable=True)
    cache[(n, sub)] = (epoch, perm)
    return perm


def minibatch(draw, n: int, b: int, sub: int, sampling: str = "iid") -> Minibatch:
    """b indices per run from ``draw``'s sub-stream ``sub``: i.i.d. uniform ("iid") or the call's block of its
    epoch's permutation ("shuffle"; module docstring)."""
    if sampling == "iid":
        return Minibatch(draw.integers(n, b, sub), n)
    blocks = n // b
    epoch, block = divmod(draw.call if draw.level_call is None else draw.level_call, blocks)
    return Minibatch(epoch_permutation(draw, n, sub, epoch)[:, block * b:(block + 1) * b], n)


def psd_deviation_bound(rows: Tensor, second_moment: Tensor) -> float:
    """max_i ||r_i r_i^T - S|| <= max_i max(||r_i||^2, ||S||) for PSD S (since -S <= r r^T - S <= r r^T)."""
    return max(float((rows * rows).sum(dim=1).max()), float(torch.linalg.matrix_norm(second_moment, ord=2)))


def whitened(raw: Tensor) -> Tensor:
    """Rows recoloured to an empirical second moment of exactly I: raw S^{-1/2}, S = raw^T raw / n."""
    evals, evecs = torch.linalg.eigh(raw.T @ raw / raw.shape[0])
    return raw @ (evecs * evals.rsqrt()) @ evecs.T


def sqrt_psd(matrix: Tensor) -> Tensor:
    evals, evecs = torch.linalg.eigh(matrix)
    return (evecs * evals.clamp_min(0).sqrt()) @ evecs.T


def add_noise(problem, kind: str, parts: tuple[Tensor, ...], draw, scale: Tensor | None = None):
    """Add ``problem.noise[kind]`` to each (R, d) part, from the sub-stream the base class uses."""
    law = problem.noise[kind]
    if not law.active:
        return parts
    sub = {"grad_f": _SUB_X, "grad_g": _SUB_Y, "hvp": _SUB_HVP, "jvp": _SUB_JVP}[kind]
    noise = law.sample(draw, tuple(p.shape[1] for p in parts), sub, scale)
    return tuple(p + n for p, n in zip(parts, noise))
