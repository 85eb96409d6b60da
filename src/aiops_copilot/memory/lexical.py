"""Words for the lexical half of hybrid search: tokens, and BM25 over a search's candidates.

Why a lexical score next to the embedding: a static embedding model averages token vectors, so
it knows that "disk full" and "no space left on device" are alike, but it blurs the rare,
exact words that decide a match in operations text — ``EMFILE``, ``pg_hba``, ``MISCONF``,
``x-dead-letter-exchange``, a service's name. BM25 over the same text keeps those sharp.

Changing the tokenisation changes every lexical score: bump :data:`LEXICAL_VERSION`, which is
part of the collection names, so stored collections are re-indexed rather than mixed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

#: Part of every collection's name: a change of tokenisation re-indexes.
LEXICAL_VERSION = 2
K1 = 1.2
B = 0.75

_PLACEHOLDER = re.compile(r"<[A-Z_*]+>")  # the miner's masks: <NUM>, <IP>, <*> ...
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_'][A-Za-z0-9]+)*|\d+[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
#: Words that carry no meaning for matching incidents to runbooks (English glue and the
#: scaffolding of log lines and runbooks alike).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "may",
        "me",
        "might",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "also",
        "just",
        "any",
        "each",
        "few",
        "all",
        "both",
        "here",
        "s",
        "t",
        "line",
        "traceback",
        "recent",
        "call",
        "last",
        "most",
        "self",
        "none",
        "null",
        "true",
        "false",
    ]
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "edly", "ed", "es", "s")


def stem(word: str) -> str:
    """A deliberately light suffix strip: "connections" and "connection", "refused" and
    "refuse", "retries" and "retry" meet, while short words and acronyms are left alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if suffix == "s" and word.endswith("ss"):
                return word
            if suffix in ("ing", "ed") and len(base) > 2 and base[-1] == base[-2]:
                base = base[:-1]  # "stopped" -> "stop"
            word = base
            break
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]  # "refuse" and "refused" both give "refus"
    return word


@lru_cache(maxsize=65_536)
def tokens(text: str) -> tuple[str, ...]:
    """Lower-case stemmed words; identifiers also give their parts (``OutOfMemoryError`` is
    ``outofmemoryerror`` and ``out``, ``memory``, ``error``; ``max_connections`` is itself and
    ``max``, ``connections``), masks and numbers are dropped. Cached: the same runbook passages
    come back as candidates for query after query."""
    out: list[str] = []
    for match in _WORD.finditer(_PLACEHOLDER.sub(" ", text)):
        word = match.group(0)
        lower = word.lower()
        parts = [p.lower() for piece in re.split(r"[_']", word) for p in _CAMEL.findall(piece)]
        candidates = [lower] if len(parts) <= 1 else [lower, *parts]
        for candidate in candidates:
            if len(candidate) < 2 or candidate.isdigit() or candidate in STOPWORDS:
                continue
            out.append(stem(candidate))
    return tuple(out)


def distinct(texts: Iterable[str]) -> set[str]:
    """Every token of several texts (tests and explanations use it)."""
    return {t for text in texts for t in tokens(text)}


def bm25_scores(query: str, documents: list[str]) -> list[float]:
    """BM25 of ``query`` against each document, with IDF and the average length taken over
    these documents themselves (the candidates a dense search returned), each divided by the
    number of distinct query tokens so that long and short queries share a scale.

    Why over the candidates and not the whole collection: Qdrant's local mode scores sparse
    vectors with a Python loop over every point (a quarter of a second at 20,000 points),
    while its dense search is a fast matrix product. Among candidates that all look alike to
    the embedding, the words they share carry little weight and the words that set one apart
    (an error code, a product name) carry much — which is the part of BM25 re-ranking needs.
    """
    terms = set(tokens(query))
    if not terms or not documents:
        return [0.0] * len(documents)
    counted = [Counter(tokens(text)) for text in documents]
    total = len(counted)
    avg_len = max(1.0, sum(sum(c.values()) for c in counted) / total)
    frequency = {t: sum(1 for c in counted if t in c) for t in terms}
    idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
    scores = []
    for counts in counted:
        length = sum(counts.values())
        norm = K1 * (1 - B + B * length / avg_len)
        score = sum(
            idf[t] * counts[t] * (K1 + 1) / (counts[t] + norm) for t in terms if counts.get(t)
        )
        scores.append(score / len(terms))
    return scores
