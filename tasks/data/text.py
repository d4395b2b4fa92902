"""Tokenizer and vocabulary built in the project (no pretrained vectors are reachable offline).

Tokens are lower-cased words (letters, digits, inner apostrophes) and single punctuation marks.
Index 0 is padding, 1 the unknown word, 2 a classification token for encoders that want one.
"""

from __future__ import annotations

import re
from collections import Counter

import torch

PAD, UNK, CLS = 0, 1, 2
SPECIALS = ("<pad>", "<unk>", "<cls>")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class Vocabulary:
    """Word -> index map from training texts: words seen at least ``min_count`` times, most frequent first."""

    def __init__(self, texts, min_count: int = 1, max_size: int | None = None):
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        counts = Counter(tok for text in texts for tok in tokenize(text))
        words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
        if max_size is not None:
            words = words[: max(0, max_size - len(SPECIALS))]
        self.words = list(SPECIALS) + words
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, texts, max_len: int, cls: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, max_len) int64 token ids (0-padded, truncated) and (N,) lengths >= 1.

        With ``cls`` every sequence starts with the <cls> token. An empty text becomes one <unk>.
        """
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1 + int(cls):
            raise ValueError(f"max_len must be an int >= {1 + int(cls)}, got {max_len!r}")
        texts = list(texts)
        ids = torch.zeros(len(texts), max_len, dtype=torch.int64)
        lengths = torch.zeros(len(texts), dtype=torch.int64)
        for row, text in enumerate(texts):
            toks = [self.index.get(t, UNK) for t in tokenize(text)] or [UNK]
            toks = ([CLS] if cls else []) + toks
            toks = toks[:max_len]
            ids[row, : len(toks)] = torch.tensor(toks)
            lengths[row] = len(toks)
        return ids, lengths
