"""Data hyper-cleaning: per-example weights of a noisy training set, tuned on a clean validation split.

    x in R^n,  s_i(x) = sigmoid(x_i)
    g(x, y) = (1/n) sum_{i in train} s_i(x) CE(theta [a_i; 1], c~_i) + mu/2 ||y||^2     (c~: noisy labels)
    f(x, y) = (1/m) sum_{i in validation} CE(theta [a_i; 1], c_i)                       (clean labels)

Splits: train (noisy, the lower level), validation (clean, the upper level; a small split, 10 % of the
data at the small size, so that a head fitted on it alone is a baseline to beat, not a tie),
select (for choosing hyperparameters) and test.

Label noise: each training label is flipped with probability ``noise`` once, from a seeded
generator; validation and test labels stay clean. The released BO-REP/SLIP code instead
re-draws the noise on every access and takes f on noisy training batches; this task follows the
papers' formulation. a_i are the max-pooled states of a recurrent
encoder pre-trained on disjoint text and then frozen (tasks.frozen_features; representation='random'
keeps its seeded random start).

lower='rnn' (HyperCleaningRNN) is the papers' setting: y is the whole RNN classifier (embedding,
``layers`` recurrent layers, linear head), g(x, y) = (1/n) sum s_i(x) CE_i(y; noisy) + mu/2 ||y||^2;
no ground truth (tasks.rnn_lower_task states the offline substitutes).

Assumptions (lower='head'): g(x, .) is mu-strongly convex with l_g1 <= (F + 1)/2 + mu for every x (the weights
are at most 1): A2 holds. f does not depend on x (grad_x f = 0).
"""

from __future__ import annotations

import numpy as np
import torch

from ubo.synthetic.constants import Constants
from ubo.tasks.building import check_float, dtype_of
from ubo.tasks.linear_head_task import LinearHeadTask
from ubo.tasks.rnn_lower_task import RNNLowerTask
from ubo.tasks.sampling import uniform_sampler
from ubo.tasks.sentiment_data import check_feature_params, fixed_pools, sentiment_splits, text_pools

PRESETS = {
    "small": dict(data="grammar", domain="tweets", limit=1000, fractions=(0.5, 0.1, 0.2, 0.2), noise=0.3,
                  encoder="rnn", representation="pretrained", pretrain_steps=400, pretrain_limit=2000, hidden=32,
                  embed_dim=16, max_len=24, batch=50, mu=1e-2, min_count=1, seed=0, dtype="float32",
                  ground_truth=True, lower="head", layers=1),
    "paper": dict(data="real", domain="tweets", limit=None, fractions=(0.7, 0.1, 0.1, 0.1), noise=0.3, encoder="rnn",
                  representation="pretrained", pretrain_steps=2000, pretrain_limit=None, hidden=4096, embed_dim=300,
                  max_len=48, batch=512, mu=1e-4, min_count=2, seed=0, dtype="float32", ground_truth=False,
                  lower="head", layers=1),
}

def noisy_splits(p: dict, noise: float, device):
    """(noisy train, validation, select, test, corrupted mask): each training label flipped once with
    probability ``noise`` from a seeded generator."""
    train, val, select, test = sentiment_splits(p["data"], p["domain"], p["limit"], p["fractions"], p["seed"])
    flips = np.random.default_rng([p["seed"], 313]).random(len(train)) < noise
    noisy = [(t, int(lab) ^ int(f)) for (t, lab), f in zip(train, flips)]
    return noisy, val, select, test, torch.as_tensor(flips, device=device)


def clean_weight_gap(x, corrupted):
    """(R,) mean weight sigmoid(x_i) of clean examples minus that of corrupted ones (None without both)."""
    s = torch.sigmoid(x)
    if bool(corrupted.any()) and bool((~corrupted).any()):
        return s[:, ~corrupted].mean(1) - s[:, corrupted].mean(1)
    return None


class _CleaningWeights:
    """What both lower levels share: example i weighted by sigmoid(x_i), a fixed ridge mu, and the gap between
    the mean weights of the clean and the corrupted examples as a metric."""

    def example_scale(self, x, idx):
        return torch.sigmoid(x).gather(1, idx)

    def penalty(self, x):
        return torch.full((x.shape[0], self.dim_y), self.mu, dtype=self.dtype, device=self.device)

    def metrics(self, x, y):
        out = super().metrics(x, y)
        gap = clean_weight_gap(x, self.corrupted)
        if gap is not None:
            out["clean_weight_gap"] = gap
        return out


class HyperCleaning(_CleaningWeights, LinearHeadTask):
    name = "hyper_cleaning"
    real_data = ("real corpus: VADER sentiment snippets of one domain (parameter domain), pre-training on the "
                 "other domains")
    classes = 2
    assumptions = "lower level mu-strongly convex and (F+1)/2+mu smooth in y for every x (meets A2)"

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        check_feature_params(p)
        self.mu = check_float("mu", p["mu"], 0.0, 1e3)
        noise = check_float("noise", p["noise"], 0.0, 1.0, low_open=False)
        if p["lower"] != "head":
            raise ValueError("lower='rnn' is built by make_task('hyper_cleaning', lower='rnn') (HyperCleaningRNN)")
        super().__init__(device, dtype_of(p["dtype"]), p["ground_truth"])
        self.params = p
        noisy, val, select, test, self.corrupted = noisy_splits(p, noise, self.device)
        self.vocab, self.pools, self.table = fixed_pools(p, noisy, val, select, test, self.device, self.dtype)
        self.lower_sampler = uniform_sampler(len(noisy), p["batch"])
        self.upper_sampler = uniform_sampler(len(val), p["batch"])
        F = p["hidden"]
        self.dim_x, self.dim_y = len(noisy), self.classes * (F + 1)
        self.constants = Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=self.mu,
                                   l_g1=(F + 1) / 2 + self.mu, l_g2=None)

    def features(self, x, pool, idx):
        return self.table[pool][idx]


class HyperCleaningRNN(_CleaningWeights, RNNLowerTask):
    """Hyper-cleaning with the RNN classifier in the lower level (lower='rnn'; no ground truth)."""

    name = "hyper_cleaning"
    real_data = HyperCleaning.real_data

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        self._check_lower(p)
        self.mu = check_float("mu", p["mu"], 0.0, 1e3)
        noise = check_float("noise", p["noise"], 0.0, 1.0, low_open=False)
        super().__init__(device, dtype_of(p["dtype"]), ground_truth=False)
        self.params = p
        noisy, val, select, test, self.corrupted = noisy_splits(p, noise, self.device)
        vocab, pools, pre_items = text_pools(p, noisy, val, select, test, self.device)
        self._build_classifier(p, pools, vocab, pre_items)
        self.lower_sampler = uniform_sampler(len(noisy), p["batch"])
        self.upper_sampler = uniform_sampler(len(val), p["batch"])
        self.dim_x = len(noisy)
        self.constants = self._measure_constants(self.mu)


def hyper_cleaning(size: str = "small", device="cpu", **params):
    """The task with lower='head' (HyperCleaning: frozen features, ground truth) or lower='rnn'
    (HyperCleaningRNN: the papers' RNN classifier in the lower level, no ground truth)."""
    lower = params.get("lower", PRESETS.get(size, PRESETS["small"])["lower"])
    return (HyperCleaningRNN if lower == "rnn" else HyperCleaning)(size=size, device=device, **params)
