"""Tasks whose lower level is a whole RNN classifier: the papers' setting for HO and hyper-cleaning.

    y = (embedding, recurrent layers, head theta (C, H + 1)),   logits_i(y) = theta [phi_y(a_i); 1]
    g(x, y) = sum_i w_i s_i(x) CE(logits_i(y), c_i) + 1/2 sum_k lam_k(x) y_k^2       ('lower' pool)
    f(x, y) = sum_i w_i CE(logits_i(y), c_i)                                        ('upper' pool)

phi_y is the max-pooled state of a vanilla tanh RNN (or LSTM, ``layers`` stacked) whose weights are
part of y, as in the experiments of BO-REP (Hao, Gong, Liu, ICLR 2024: hyperparameter optimisation and
data hyper-cleaning) and SLIP (Gong, Hao, Liu, ICML 2024: data hyper-cleaning), where the whole RNN
classifier is the lower-level variable. s_i(x) are
per-example weights (hyper-cleaning), lam(x) the penalties (hyperparameter optimisation).

There is **no ground truth**: g(x, .) is nonconvex in the RNN weights, y*(x) need not be unique and
neither y*, z* nor grad Phi can be computed; the runner records the task metrics only. The papers'
lower-level assumptions (strong convexity, A2) do not hold, as in the papers' own experiments. The
constants handed to the algorithms are measurements, not certificates: ``l_g1`` is the top
eigenvalue of grad2_yy g(x0, y0) by power iteration on the whole lower pool (it sets the lower step
in ``tasks.tuning``), ``mu`` the penalty floor (a lower bound on the Hessian of the penalty only).

Offline substitutes for the papers' setting (stated, not hidden): the generated negation grammar or
the VADER sentiment domains instead of Amazon / Sentiment140; a trainable embedding instead of
frozen GloVe; a linear head instead of the released code's MLP; a squared penalty instead of the
released code's unsquared norm (so the penalty is smooth); hidden 32 at the small size. The classifier
starts from a seeded random encoder, or ('pretrained') from the encoder pre-trained on disjoint text
(tasks.frozen_features.pretrain), with the head at zero.
"""

from __future__ import annotations

import math

import torch

from ubo.synthetic.constants import Constants
from ubo.tasks import encoders, head
from ubo.tasks.base import TextBilevelTask
from ubo.tasks.building import encode, generator
from ubo.tasks.frozen_features import pretrain
from ubo.tasks.params import ParamSpec
from ubo.tasks.sentiment_data import check_feature_params


class RNNLowerTask(TextBilevelTask):
    """Base of the RNN-in-the-lower-level variants; subclasses give example_scale and penalty."""

    classes = 2
    assumptions = ("lower level a nonconvex RNN classifier (the papers' setting): A2 not met, no ground truth; "
                   "l_g1 measured at (x0, y0)")

    def _check_lower(self, p: dict) -> None:
        """The feature parameters every variant shares, and lower='rnn' (the linear lower level is the sibling class)."""
        check_feature_params(p)
        if p["lower"] != "rnn":
            raise ValueError(f"{type(self).__name__} needs lower='rnn', got {p['lower']!r}")

    def _build_classifier(self, p: dict, pools: dict, vocab, pre_items: list) -> None:
        """y's layout (self.spec), its start y0 (pre-trained encoder or random, head zero), and the measured
        curvature at (x0, y0)."""
        self.pools, self.vocab, self.kind = pools, vocab, p["encoder"]
        H, e, layers = p["hidden"], p["embed_dim"], p["layers"]
        shapes = encoders.recurrent_shapes(self.kind, len(vocab), e, H, layers)
        enc = ParamSpec(shapes)
        flat = enc.init(generator(p["seed"] + 1000), encoders.recurrent_scales(self.kind, e, H, layers=layers),
                        self.dtype, self.device).unsqueeze(0)
        if p["representation"] == "pretrained" and p["pretrain_steps"] > 0:
            pre = encode(vocab, pre_items, p["max_len"], self.device)
            flat = pretrain(flat, enc, pre, self.kind, p["pretrain_steps"], 1e-2, 64, p["seed"])
        self.spec = ParamSpec({**shapes, "head": (self.classes, H + 1)})
        self.dim_y = self.spec.dim
        self._y0 = torch.cat((flat[0], flat.new_zeros(self.classes * (H + 1))))

    def _measure_constants(self, floor: float, iters: int = 15) -> Constants:
        """Constants(mu=floor, l_g1=lambda_max(grad2_yy g(x0, y0)) by power iteration): measured, not certified."""
        x, y = self.batch(self.x0, 1), self.batch(self.y0, 1)
        v = torch.randn(y.shape, generator=generator(11), dtype=torch.float64).to(y)
        top = floor
        for _ in range(iters):
            v = v / v.norm()
            hv = self.hvp_yy(x, y, v)
            top = float((hv * v).sum())
            v = hv
        top = max(abs(top), float(v.norm()), floor)
        return Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=floor, l_g1=top, l_g2=None)

    @property
    def y0(self):
        return self._y0

    # ---- to implement ---------------------------------------------------------------
    def example_scale(self, x, idx) -> torch.Tensor | None:
        """(R, B) weights s_i(x) of lower-pool examples, or None for all ones."""
        return None

    def penalty(self, x) -> torch.Tensor:
        """(R, dim_y) coefficients lam(x) of the squared-L2 penalty on the classifier's weights."""
        raise NotImplementedError

    # ---- the classifier ---------------------------------------------------------------
    def logits(self, y, pool: str, idx) -> torch.Tensor:
        """(R, B, C) logits of the RNN classifier y on pool examples idx (R, B)."""
        prm = self.spec.unflatten(y)
        feats = encoders.encode(self.kind, prm, self.pools[pool], idx)
        return head.logits(prm["head"].reshape(y.shape[0], -1), feats, self.classes)

    def _cross_entropy(self, y, pool, idx):
        z = self.logits(y, pool, idx)
        labels = self.pools[pool].labels[idx]
        return torch.logsumexp(z, -1) - z.gather(-1, labels.unsqueeze(-1)).squeeze(-1)

    def lower_loss(self, x, y, idx, weights):
        scale = self.example_scale(x, idx)
        w = weights if scale is None else weights * scale
        return (w * self._cross_entropy(y, "lower", idx)).sum(1) + 0.5 * (self.penalty(x) * y * y).sum(1)

    def upper_loss(self, x, y, idx, weights):
        return (weights * self._cross_entropy(y, "upper", idx)).sum(1)

    # ---- no ground truth ----------------------------------------------------------------
    def _no_ground_truth(self, what: str):
        raise ValueError(f"task {self.name!r} with lower='rnn' has no ground truth ({what} unavailable: the lower "
                         f"level is a nonconvex RNN classifier)")

    def y_star(self, x):
        self._no_ground_truth("y*")

    def hessian_yy(self, x, y):
        self._no_ground_truth(f"the dense {self.dim_y} x {self.dim_y} Hessian")

    def z_star(self, x):
        self._no_ground_truth("z*")

    # ---- metrics --------------------------------------------------------------------
    def accuracy(self, y, pool: str = "test", chunk: int = 1024) -> torch.Tensor:
        """(R,) accuracy of the classifier y on a whole pool."""
        n, hits = len(self.pools[pool]), 0
        with torch.no_grad():
            for a in range(0, n, chunk):
                idx = torch.arange(a, min(a + chunk, n), device=self.device).expand(y.shape[0], -1)
                hits = hits + (self.logits(y, pool, idx).argmax(-1) == self.pools[pool].labels[idx]).sum(1)
        return hits.to(self.dtype) / n

    def metrics(self, x, y):
        """Upper loss on the evaluation subset, test and select accuracy. No hypergradient estimate: it needs a
        solve with the (possibly indefinite) RNN Hessian, which the lower level does not make meaningful."""
        with torch.no_grad():
            upper = self.upper_loss(x, y, *self.eval_batch("upper", x.shape[0]))
        return {"upper_loss": upper, "test_accuracy": self.accuracy(y), "select_accuracy": self.accuracy(y, "select")}


def block_index(spec: ParamSpec, device) -> torch.Tensor:
    """(dim,) block number of every coordinate of a flat parameter vector (blocks in spec order)."""
    sizes = [math.prod(s) for s in spec.shapes.values()]
    return torch.repeat_interleave(torch.arange(len(sizes), device=device), torch.tensor(sizes, device=device))
