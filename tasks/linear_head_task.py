"""Tasks whose lower level is a linear softmax head with a squared-L2 penalty (strongly convex in y).

    g(x, y) = sum_i w_i s_i(x) CE(theta [phi_x(a_i); 1], c_i) + 1/2 sum_k lam_k(x) y_k^2     ('lower' pool)
    f(x, y) = sum_i w_i CE(theta [phi_x(a_i); 1], c_i)                                    ('upper' pool)

phi_x is the sequence encoder (trainable part of x, or frozen), s_i(x) per-example weights
(hyper-cleaning) and lam(x) the penalty (hyperparameter optimisation). For every x, g(x, .) is
mu-strongly convex with mu = min lam, so y*(x) is unique and is found by damped Newton
(tasks.head.newton): an independent ground truth for y*, z* and grad Phi at CPU sizes.
"""

from __future__ import annotations

import numpy as np
import torch

from ubo.tasks import head
from ubo.tasks.base import TextBilevelTask


class LinearHeadTask(TextBilevelTask):
    classes: int

    # ---- to implement ---------------------------------------------------------------
    def features(self, x, pool: str, idx) -> torch.Tensor:
        """(R, B, F) features of pool examples idx (R, B) under encoder parameters x."""
        raise NotImplementedError

    def example_scale(self, x, idx) -> torch.Tensor | None:
        """(R, B) weights s_i(x) of lower-pool examples, or None for all ones."""
        return None

    def penalty(self, x) -> torch.Tensor:
        """(R, dim_y) coefficients lam(x) of the squared-L2 penalty."""
        raise NotImplementedError

    # ---- losses ---------------------------------------------------------------------
    def _lower_weights(self, x, idx, weights):
        scale = self.example_scale(x, idx)
        return weights if scale is None else weights * scale

    def lower_loss(self, x, y, idx, weights):
        ce = head.cross_entropy(y, self.features(x, "lower", idx), self.pools["lower"].labels[idx], self.classes)
        return (self._lower_weights(x, idx, weights) * ce).sum(1) + 0.5 * (self.penalty(x) * y * y).sum(1)

    def upper_loss(self, x, y, idx, weights):
        ce = head.cross_entropy(y, self.features(x, "upper", idx), self.pools["upper"].labels[idx], self.classes)
        return (weights * ce).sum(1)

    # ---- ground truth ---------------------------------------------------------------
    def _lower_problem(self, x):
        idx, weights = self.full_batch("lower", x.shape[0])
        with torch.no_grad():
            feats = self.features(x, "lower", idx)
            return feats, self.pools["lower"].labels[idx], self._lower_weights(x, idx, weights), self.penalty(x)

    def y_star(self, x):
        """Damped Newton on the whole lower pool; the last answer is reused for an equal x (a runner asks
        for y* several times per recorded step)."""
        self._need_ground_truth()
        memo = getattr(self, "_y_star_memo", None)
        if memo is not None and memo[0].shape == x.shape and torch.equal(memo[0], x):
            return memo[1].clone()
        feats, labels, weights, lam = self._lower_problem(x)
        y = head.newton(feats, labels, weights, lam, self.classes)
        self._y_star_memo = (x.detach().clone(), y)
        return y.clone()

    def hessian_yy(self, x, y):
        feats, _, weights, lam = self._lower_problem(x)
        return head.hessian(y, feats, weights, lam, self.classes)

    def subset_hessian(self, x, y, idx, weights):
        with torch.no_grad():
            feats = self.features(x, "lower", idx)
            return head.hessian(y, feats, self._lower_weights(x, idx, weights), self.penalty(x), self.classes)

    def z_star(self, x):
        self._need_ground_truth()
        return super().z_star(x)

    # ---- metrics --------------------------------------------------------------------
    def accuracy(self, x, y, pool: str = "test", chunk: int = 1024) -> torch.Tensor:
        """(R,) accuracy of the current (x, y) on a whole pool, in chunks of ``chunk`` examples."""
        n, hits = len(self.pools[pool]), 0
        with torch.no_grad():
            for a in range(0, n, chunk):
                idx = torch.arange(a, min(a + chunk, n), device=self.device).expand(x.shape[0], -1)
                z = head.logits(y, self.features(x, pool, idx), self.classes)
                hits = hits + (z.argmax(-1) == self.pools[pool].labels[idx]).to(self.dtype).sum(1)
        return hits / n

    adapt_shots: int | None = None  # test-time adaptation metric (meta-learning tasks set it)
    adapt_draws: int = 10

    def adapted_accuracy(self, x, seed: int = 0) -> torch.Tensor:
        """(R,) accuracy after test-time adaptation, the papers' meta-test: for each of ``adapt_draws`` fixed
        support sets of ``adapt_shots`` test examples per class, a head is fitted (exactly, with the task's
        penalty) on the support features at x and scores the other test examples; mean over draws."""
        pool, R, D = self.pools["test"], x.shape[0], self.adapt_draws
        n, labels = len(pool), pool.labels
        with torch.no_grad():
            idx = torch.arange(n, device=self.device).expand(R, n)
            feats = torch.cat([self.features(x, "test", idx[:, a:a + 1024]) for a in range(0, n, 1024)], dim=1)
            rng = np.random.default_rng([seed, 4242])
            support = torch.tensor(np.stack([np.concatenate([rng.choice(np.flatnonzero(labels.cpu().numpy() == c),
                                                                        self.adapt_shots, replace=False)
                                                             for c in range(self.classes)]) for _ in range(D)]),
                                   device=self.device)                                   # (D, k)
            k = support.shape[1]
            f_s = feats[:, support].reshape(R * D, k, -1)
            y_s = head.newton(f_s, labels[support].repeat(R, 1), torch.full((R * D, k), 1.0 / k, dtype=self.dtype,
                                                                                 device=self.device),
                              self.penalty(x).repeat_interleave(D, 0), self.classes)
            hits = head.logits(y_s, feats.repeat_interleave(D, 0), self.classes).argmax(-1) == labels
            rest = torch.ones(D, n, dtype=torch.bool, device=self.device)
            rest[torch.arange(D, device=self.device).unsqueeze(1), support] = False
            acc = (hits.view(R, D, n) & rest).sum(-1).to(self.dtype) / rest.sum(-1).to(self.dtype)
        return acc.mean(1)

    def metrics(self, x, y):
        """Upper loss on the fixed evaluation subset (the whole upper pool when it holds <= eval_size
        examples, as at the small sizes), test accuracy, the hypergradient-norm estimate, and the
        accuracy on the 'select' pool (held out for choosing hyperparameters) when the task has one."""
        with torch.no_grad():
            upper = self.upper_loss(x, y, *self.eval_batch("upper", x.shape[0]))
        out = {"upper_loss": upper, "test_accuracy": self.accuracy(x, y),
               "hypergrad_norm_estimate": self.hypergradient_estimate(x, y).norm(dim=1)}
        if "select" in self.pools:
            out["select_accuracy"] = self.accuracy(x, y, "select")
        if self.adapt_shots:
            out["adapted_test_accuracy"] = self.adapted_accuracy(x)
        return out
