"""Single-domain binary sentiment data with train / validation / test splits and fixed features
(shared by hyperparameter optimisation and data hyper-cleaning)."""

from __future__ import annotations

from ubo.tasks.building import DATA, ENCODERS, check_int, check_params, encode, shuffled, split
from ubo.tasks.data import SENTIMENT_DOMAINS, Vocabulary, sentiment, sentiment_grammar
from ubo.tasks.frozen_features import frozen_features

REPRESENTATIONS = ("pretrained", "random")
LOWERS = ("head", "rnn")  # lower level: a linear head on frozen features, or the whole RNN classifier


def check_feature_params(p: dict) -> None:
    """Validate the parameters shared by the fixed-feature tasks (data, encoder, sizes, seed)."""
    check_params(p, {"data": DATA, "encoder": ENCODERS, "representation": REPRESENTATIONS},
                 ("hidden", "embed_dim", "max_len", "batch", "min_count"))
    check_int("pretrain_steps", p["pretrain_steps"], 0)
    check_params(p, {"lower": LOWERS}, ("layers",))
    if p["lower"] == "head" and p["layers"] != 1:
        raise ValueError(f"layers > 1 needs lower='rnn' (the frozen features use one layer), got layers={p['layers']}")

_CACHE: dict = {}


def sentiment_splits(data: str, domain: str, limit: int | None, fractions: tuple[float, ...], seed: int):
    """(train, validation, select, test) lists of (text, label); data 'grammar' or 'real' (one of
    SENTIMENT_DOMAINS). ``fractions`` has four parts; 'select' is held out for choosing hyperparameters."""
    if len(fractions) != 4 or any(not isinstance(f, (int, float)) or f <= 0 for f in fractions):
        raise ValueError(f"fractions must be 4 positive numbers (train, validation, select, test), got {fractions!r}")
    if data == "grammar":
        items = sentiment_grammar(limit or 1000, seed=seed)
    else:
        if domain not in SENTIMENT_DOMAINS:
            raise ValueError(f"domain must be one of {SENTIMENT_DOMAINS}, got {domain!r}")
        items = shuffled(sentiment(domain), seed, limit)
    return split(items, fractions)


def pretraining_items(data: str, domain: str, limit: int | None, seed: int) -> list[tuple[str, int]]:
    """Disjoint pre-training text: fresh grammar sentences, or the other sentiment domains pooled."""
    if data == "grammar":
        return sentiment_grammar(limit or 2000, seed=seed + 104729)
    others = [item for d in SENTIMENT_DOMAINS if d != domain for item in sentiment(d)]
    return shuffled(others, seed, limit)


def text_pools(p: dict, train, val, select, test, device):
    """(vocab, pools, pre-training items) for labelled splits.

    The vocabulary covers all training text: the training split and the pre-training text (built
    from the training split alone it left a quarter of the pre-training tokens unknown at paper size)."""
    pre_items = (pretraining_items(p["data"], p["domain"], p["pretrain_limit"], p["seed"])
                 if p["representation"] == "pretrained" else [])
    vocab = Vocabulary([t for t, _ in train + pre_items], min_count=p["min_count"])
    pools = {name: encode(vocab, items, p["max_len"], device)
             for name, items in (("lower", train), ("upper", val), ("select", select), ("test", test))}
    return vocab, pools, pre_items


def fixed_pools(p: dict, train, val, select, test, device, dtype):
    """(vocab, pools, feature tables) for labelled splits (text_pools); features cached per configuration."""
    vocab, pools, pre_items = text_pools(p, train, val, select, test, device)
    keys = ("data", "domain", "limit", "fractions", "encoder", "hidden", "embed_dim", "max_len", "min_count",
            "seed", "representation", "pretrain_steps", "pretrain_limit")
    key = (tuple(p[k] for k in keys), str(device), dtype)
    if key not in _CACHE:
        pre = None
        if pre_items:
            pre = encode(vocab, pre_items, p["max_len"], device)
        _CACHE[key] = frozen_features(pools, len(vocab), p["encoder"], p["embed_dim"], p["hidden"], p["seed"],
                                      dtype, device, pre, p["pretrain_steps"])
    return vocab, pools, {k: v for k, v in _CACHE[key].items()}
