"""Hyper-representation (meta-learning) over multi-domain sentiment tasks.

    x = sequence encoder (embedding + vanilla tanh RNN or LSTM, max-pooled as in the papers' code,
    or mean-pooled with pooling='mean', which is smooth), y = one shared linear
    head theta (2, H + 1) with penalty mu/2 ||y||^2 (squared, so g is mu-strongly convex in y).
    g = E_task CE(support of the task) + mu/2 ||y||^2,    f = E_task CE(query of the task)

A task picks a training domain uniformly and draws ``shots`` support (resp. query) examples per
label from it, as BO-REP's released code does with the Amazon multi-domain data (k_spt = k_qry =
20, balanced); ``tasks`` tasks form one oracle call. Support and query come from disjoint
pools of each domain. The held-out domain is split in two halves: 'select' (for choosing
hyperparameters) and 'test' (the reported accuracy); the shared head and encoder transfer to it
without fine-tuning (test_accuracy, zero-shot) and after test-time adaptation as in the papers'
meta-test (adapted_test_accuracy: a head fitted on ``shots`` held-out examples per class, at the
learnt encoder; LinearHeadTask.adapted_accuracy).

Data: 'real' = the five offline sentiment domains (VADER tweets, movie, NYT snippets and
Rotten Tomatoes for training, VADER Amazon snippets held out); 'grammar' = the negation grammar
with 4 domains (3 training, 1 held out), generated in code.

Assumptions: the lower level meets the papers' A2 (g(x, .) mu-strongly convex and smooth in y,
||grad2_yy g|| <= (H + 1)/2 + mu since tanh features are bounded). The upper level is the RNN
loss: its (L0, L1) constants are not certified (measure them with tasks.smoothness). The
released code's head is a 3-layer MLP with an unsquared norm penalty, which is not strongly
convex (BO-REP's released meta-learning code); this task departs from it on purpose.
"""

from __future__ import annotations

import torch

from ubo.synthetic.constants import Constants
from ubo.tasks import encoders
from ubo.tasks.building import (DATA, ENCODERS, POOLINGS, check_float, check_int, check_params, dtype_of, encode,
                            generator, shuffled, split)
from ubo.tasks.data import SENTIMENT_DOMAINS, Vocabulary, sentiment, sentiment_grammar
from ubo.tasks.linear_head_task import LinearHeadTask
from ubo.tasks.params import ParamSpec
from ubo.tasks.sampling import StratifiedSampler

TEST_DOMAIN = "amazonReviewSnippets"
PRESETS = {
    "small": dict(data="grammar", encoder="rnn", layers=1, pooling="max", hidden=32, embed_dim=16, per_domain=1000,
                  max_len=24,
                  tasks=4, shots=5, mu=1e-2, min_count=1, seed=0, dtype="float32", ground_truth=True),
    "paper": dict(data="real", encoder="rnn", layers=2, pooling="max", hidden=4096, embed_dim=300, per_domain=None,
                  max_len=48,
                  tasks=20, shots=10, mu=1e-4, min_count=2, seed=0, dtype="float32", ground_truth=False),
}

def _domains(data: str, per_domain, seed: int):
    """(training domains [(name, items)], held-out items)."""
    if data == "grammar":
        n = per_domain or 400
        made = [sentiment_grammar(n, domain=d, n_domains=4, seed=seed) for d in range(4)]
        return [(f"grammar{d}", made[d]) for d in range(3)], made[3]
    train = [(d, shuffled(sentiment(d), seed, per_domain)) for d in SENTIMENT_DOMAINS if d != TEST_DOMAIN]
    return train, shuffled(sentiment(TEST_DOMAIN), seed, per_domain)


class HyperRepresentation(LinearHeadTask):
    name = "hyper_representation"
    real_data = ("real corpus: VADER sentiment snippets (tweets, movie reviews, NYT editorials, Rotten Tomatoes for "
                 "training; Amazon held out)")
    classes = 2
    assumptions = ("lower level mu-strongly convex linear head (meets A2); upper level (L0,L1) constants of the "
                   "RNN not certified")

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        check_params(p, {"data": DATA, "encoder": ENCODERS, "pooling": POOLINGS},
                     ("hidden", "layers", "embed_dim", "max_len", "tasks", "shots", "min_count"))
        if p["per_domain"] is not None:
            check_int("per_domain", p["per_domain"], 4)
        mu = check_float("mu", p["mu"], 0.0, 1e3)
        super().__init__(device, dtype_of(p["dtype"]), p["ground_truth"])
        self.params, self.kind = p, p["encoder"]

        train, test = _domains(p["data"], p["per_domain"], p["seed"])
        support, query, strata_s, strata_q = [], [], [], []
        for d, (_, items) in enumerate(train):
            lower, upper = split(items, (0.5, 0.5))
            support += lower
            query += upper
            strata_s += [2 * d + lab for _, lab in lower]
            strata_q += [2 * d + lab for _, lab in upper]
        self.vocab = Vocabulary([t for t, _ in support + query], min_count=p["min_count"])
        self.pools = {"lower": encode(self.vocab, support, p["max_len"], self.device),
                      "upper": encode(self.vocab, query, p["max_len"], self.device),
                      **{name: encode(self.vocab, part, p["max_len"], self.device)
                         for name, part in zip(("select", "test"), split(test, (0.5, 0.5)))}}
        groups = torch.tensor([[2 * d, 2 * d + 1] for d in range(len(train))])
        self.lower_sampler = StratifiedSampler(torch.tensor(strata_s), groups, p["tasks"], p["shots"])
        self.upper_sampler = StratifiedSampler(torch.tensor(strata_q), groups, p["tasks"], p["shots"])

        shapes = encoders.recurrent_shapes(self.kind, len(self.vocab), p["embed_dim"], p["hidden"], p["layers"])
        self.spec = ParamSpec(shapes)
        self.dim_x, self.dim_y = self.spec.dim, self.classes * (p["hidden"] + 1)
        self._x0 = self.spec.init(generator(p["seed"]), encoders.recurrent_scales(self.kind, p["embed_dim"],
                                                                                    p["hidden"], layers=p["layers"]),
                                  self.dtype, self.device)
        self.mu = mu
        self.adapt_shots = p["shots"]
        self.constants = Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=mu,
                                   l_g1=(p["hidden"] + 1) / 2 + mu, l_g2=None)

    @property
    def x0(self):
        return self._x0

    def features(self, x, pool, idx):
        prm = self.spec.unflatten(x)
        return encoders.encode(self.kind, prm, self.pools[pool], idx, pooling=self.params["pooling"])

    def penalty(self, x):
        return torch.full((x.shape[0], self.dim_y), self.mu, dtype=self.dtype, device=self.device)
