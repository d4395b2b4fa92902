"""Text data for the tasks: offline corpora read by path, a tokenizer, and generated fallbacks."""

from ubo.tasks.data.corpora import (INSTALL, SENTIMENT_DOMAINS, VADER_DOMAINS, available, rotten_tomatoes, sentiment,
                                sms_spam, trec, vader)
from ubo.tasks.data.grammar import sentiment_grammar, sentiment_pairs
from ubo.tasks.data.text import CLS, PAD, UNK, Vocabulary, tokenize

__all__ = ["CLS", "INSTALL", "PAD", "SENTIMENT_DOMAINS", "UNK", "VADER_DOMAINS", "Vocabulary", "available",
           "rotten_tomatoes", "sentiment", "sentiment_grammar", "sentiment_pairs", "sms_spam", "tokenize", "trec",
           "vader"]
