"""Synthetic text generated in code: a small sentiment grammar with negation and its pair variant.

Sentences are ``length`` words: fillers, an odd number (1 or 3) of polar words, each negated with
probability ``negation`` by a negator just before it. The label is the sign of the summed valence
(a negator flips the next polar word), so it is never tied. With a small vocabulary (about 100
polar words, 20 fillers, 3 negators) and length about 10 the grammar is learnable to 100 % on CPU
in seconds. Domain d of n_domains > 1 leaves out its own slice of the
polar lexicon (every n_domains-th word), so domains differ in vocabulary, as multi-domain sentiment
data do, while any held-out domain's words all occur in the others.

The pair variant joins sentences A and B with the word ``sep``; label 1 when they agree in sign
(an NLI-like two-sentence task, a stand-in for SNLI, which has no offline source).
"""

from __future__ import annotations

import numpy as np

NEGATORS = ("not", "never", "no")


def _check(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def _sentences(rng: np.random.Generator, n: int, length: int, negation: float, n_polar: int,
               n_fillers: int, domain: int, n_domains: int) -> tuple[list[str], np.ndarray]:
    texts, labels = [], np.zeros(n, dtype=np.int64)
    own = np.arange(n_polar)
    if n_domains > 1:
        own = own[own % n_domains != domain]  # this domain leaves out its own slice of the lexicon
    for i in range(n):
        words = [f"w{k}" for k in rng.integers(0, n_fillers, length)]
        n_pol = int(rng.choice((1, 3)))
        slots = rng.choice(np.arange(1, length, 2), size=n_pol, replace=False)  # odd slots: room for a negator
        total = 0
        for slot in slots:
            sign = 1 if rng.random() < 0.5 else -1
            words[slot] = ("good" if sign > 0 else "bad") + str(int(rng.choice(own)))
            if rng.random() < negation:
                words[slot - 1] = NEGATORS[int(rng.integers(0, len(NEGATORS)))]
                sign = -sign
            total += sign
        texts.append(" ".join(words))
        labels[i] = int(total > 0)
    return texts, labels


def sentiment_grammar(n: int, length: int = 10, negation: float = 0.3, n_polar: int = 50, n_fillers: int = 20,
                      domain: int = 0, n_domains: int = 1, seed: int = 0) -> list[tuple[str, int]]:
    """n (sentence, label) pairs of the negation grammar (label 1 = positive)."""
    for name, value, low in (("n", n, 1), ("length", length, 6), ("n_polar", n_polar, 1),
                             ("n_fillers", n_fillers, 1), ("n_domains", n_domains, 1), ("seed", seed, 0)):
        _check(name, value, low)
    if not (isinstance(negation, (int, float)) and 0 <= negation <= 1):
        raise ValueError(f"negation must be a probability in [0, 1], got {negation!r}")
    if not (isinstance(domain, int) and 0 <= domain < n_domains and n_polar >= 2 * n_domains):
        raise ValueError(f"domain must be an int in [0, n_domains={n_domains}) and n_polar >= 2 * n_domains")
    rng = np.random.default_rng([seed, domain, 17])
    texts, labels = _sentences(rng, n, length, negation, n_polar, n_fillers, domain, n_domains)
    return list(zip(texts, labels.tolist()))


def sentiment_pairs(n: int, length: int = 8, negation: float = 0.3, n_polar: int = 50, n_fillers: int = 20,
                    seed: int = 0) -> list[tuple[str, int]]:
    """n ('A sep B', label) pairs, label 1 when A and B have the same sentiment."""
    first = sentiment_grammar(n, length, negation, n_polar, n_fillers, seed=seed)
    second = sentiment_grammar(n, length, negation, n_polar, n_fillers, seed=seed + 7919)
    return [(f"{a} sep {b}", int(la == lb)) for (a, la), (b, lb) in zip(first, second)]
