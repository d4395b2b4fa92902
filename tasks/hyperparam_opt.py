"""Hyperparameter optimisation: per-feature L2 penalties of a classifier on fixed representations.

    x in R^F,  lam_j(x) = mu0 + lam_max sigmoid(x_j)  penalises column j of W (all classes); the bias gets mu0
    g(x, y) = (1/n) sum_{i in train} CE(theta [a_i; 1], c_i) + 1/2 sum_k lam_k(x) y_k^2
    f(x, y) = (1/m) sum_{i in validation} CE(theta [a_i; 1], c_i)

a_i are the max-pooled states of a recurrent encoder pre-trained on disjoint text and then frozen
(tasks.frozen_features; representation='random' keeps its seeded random start). BO-REP's released
code tunes a single scalar penalty of an unsquared norm on the whole RNN (BO-REP, Sec. 5); here the
penalty is squared and per feature, which makes the lower level strongly convex and y* computable.

The penalty is bounded on purpose. An exp(x) parametrisation (the usual choice) makes l_g1 grow
without bound along the run: normalized x steps push max_j x_j up until a lower-level step tuned
at x0 becomes unstable (measured: SLIP and BO-REP diverge after 150-300 steps). With a sigmoid the
lower-level curvature stays in [mu0, (F + 1)/2 + mu0 + lam_max] for every x.

lower='rnn' (HyperparamOptRNN) is the papers' setting: y is the whole RNN classifier (embedding,
``layers`` recurrent layers, linear head) and x holds one penalty per parameter block (embedding,
each layer's w_ih, w_hh, b, the head), lam_b(x) = mu0 + lam_max sigmoid(x_b), a per-block
generalisation of BO-REP's scalar penalty; no ground truth (tasks.rnn_lower_task states the offline
substitutes).

Assumptions (lower='head'): g(x, .) is mu0-strongly convex and l_g1 = (F + 1)/2 + mu0 + lam_max smooth in y for
every x (the papers' uniform lower-level assumptions hold). f does not depend on x directly
(grad_x f = 0); the hypergradient is -grad2_xy g z*.
"""

from __future__ import annotations

import torch

from ubo.synthetic.constants import Constants
from ubo.tasks.building import check_float, dtype_of
from ubo.tasks.linear_head_task import LinearHeadTask
from ubo.tasks.rnn_lower_task import RNNLowerTask, block_index
from ubo.tasks.sampling import uniform_sampler
from ubo.tasks.sentiment_data import check_feature_params, fixed_pools, sentiment_splits, text_pools

PRESETS = {
    "small": dict(data="grammar", domain="tweets", limit=1000, fractions=(0.4, 0.2, 0.2, 0.2), encoder="rnn",
                  representation="pretrained", pretrain_steps=400, pretrain_limit=2000, hidden=32, embed_dim=16,
                  max_len=24, batch=50, mu0=1e-3, lam_max=1.0, x_init=0.0, min_count=1, seed=0, dtype="float32",
                  ground_truth=True, lower="head", layers=1),
    "paper": dict(data="real", domain="tweets", limit=None, fractions=(0.6, 0.2, 0.1, 0.1), encoder="rnn",
                  representation="pretrained", pretrain_steps=2000, pretrain_limit=None, hidden=2048, embed_dim=300,
                  max_len=48, batch=50, mu0=1e-4, lam_max=1.0, x_init=0.0, min_count=2, seed=0, dtype="float32",
                  ground_truth=False, lower="head", layers=1),
}

class HyperparamOpt(LinearHeadTask):
    name = "hyperparam_opt"
    real_data = ("real corpus: VADER sentiment snippets of one domain (parameter domain), pre-training on the "
                 "other domains")
    classes = 2
    assumptions = ("lower level mu0-strongly convex and ((F+1)/2 + mu0 + lam_max)-smooth in y for every x "
                   "(bounded penalty; meets A2)")

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        check_feature_params(p)
        self.mu0 = check_float("mu0", p["mu0"], 0.0, 1e3)
        self.lam_max = check_float("lam_max", p["lam_max"], 0.0, 1e3)
        x_init = check_float("x_init", p["x_init"], -50.0, 50.0, low_open=False)
        if p["lower"] != "head":
            raise ValueError("lower='rnn' is built by make_task('hyperparam_opt', lower='rnn') (HyperparamOptRNN)")
        super().__init__(device, dtype_of(p["dtype"]), p["ground_truth"])
        self.params = p
        train, val, select, test = sentiment_splits(p["data"], p["domain"], p["limit"], p["fractions"], p["seed"])
        self.vocab, self.pools, self.table = fixed_pools(p, train, val, select, test, self.device, self.dtype)
        self.lower_sampler = uniform_sampler(len(train), p["batch"])
        self.upper_sampler = uniform_sampler(len(val), p["batch"])
        F = p["hidden"]
        self.dim_x, self.dim_y = F, self.classes * (F + 1)
        self._x0 = torch.full((F,), x_init, dtype=self.dtype, device=self.device)
        self.constants = Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=self.mu0,
                                   l_g1=(F + 1) / 2 + self.mu0 + self.lam_max, l_g2=None)

    @property
    def x0(self):
        return self._x0

    def features(self, x, pool, idx):
        return self.table[pool][idx]

    def penalty(self, x):
        lam = torch.cat((self.mu0 + self.lam_max * torch.sigmoid(x), x.new_full((x.shape[0], 1), self.mu0)), dim=1)
        return lam.repeat(1, self.classes)


class HyperparamOptRNN(RNNLowerTask):
    """Per-block penalties of the whole RNN classifier in the lower level (lower='rnn'; no ground truth)."""

    name = "hyperparam_opt"
    real_data = HyperparamOpt.real_data

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        self._check_lower(p)
        self.mu0 = check_float("mu0", p["mu0"], 0.0, 1e3)
        self.lam_max = check_float("lam_max", p["lam_max"], 0.0, 1e3)
        x_init = check_float("x_init", p["x_init"], -50.0, 50.0, low_open=False)
        super().__init__(device, dtype_of(p["dtype"]), ground_truth=False)
        self.params = p
        train, val, select, test = sentiment_splits(p["data"], p["domain"], p["limit"], p["fractions"], p["seed"])
        vocab, pools, pre_items = text_pools(p, train, val, select, test, self.device)
        self._build_classifier(p, pools, vocab, pre_items)
        self.blocks = list(self.spec.shapes)
        self.block_of = block_index(self.spec, self.device)
        self.lower_sampler = uniform_sampler(len(train), p["batch"])
        self.upper_sampler = uniform_sampler(len(val), p["batch"])
        self.dim_x = len(self.blocks)
        self._x0 = torch.full((self.dim_x,), x_init, dtype=self.dtype, device=self.device)
        self.constants = self._measure_constants(self.mu0)

    @property
    def x0(self):
        return self._x0

    def penalty(self, x):
        return (self.mu0 + self.lam_max * torch.sigmoid(x))[:, self.block_of]


def hyperparam_opt(size: str = "small", device="cpu", **params):
    """The task with lower='head' (HyperparamOpt: frozen features, ground truth) or lower='rnn'
    (HyperparamOptRNN: the papers' RNN classifier in the lower level, no ground truth)."""
    lower = params.get("lower", PRESETS.get(size, PRESETS["small"])["lower"])
    return (HyperparamOptRNN if lower == "rnn" else HyperparamOpt)(size=size, device=device, **params)
