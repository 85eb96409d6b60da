"""Tokens and BM25 sparse vectors for the lexical half of hybrid search."""

from __future__ import annotations

import pytest

from aiops_copilot.memory import lexical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Connection refused", ["connection", "refus"]),
        ("connections REFUSED", ["connection", "refus"]),
        ("java.lang.OutOfMemoryError", ["java", "lang", "outofmemoryerror", "memory", "error"]),
        ("max_connections=20", ["max_connections", "max", "connection"]),
        ("port <NUM> on <IP> failed", ["port", "fail"]),  # masks and numbers dropped
        ("the and of it", []),  # stop-words only
        ("retries exhausted", ["retry", "exhaust"]),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert list(lexical.tokens(text)) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("refuse", "refused"), ("file", "files"), ("stopped", "stop"), ("retries", "retry")],
)
def test_stem_brings_word_forms_together(a: str, b: str) -> None:
    assert lexical.stem(a) == lexical.stem(b)


def test_short_words_and_identifiers_are_kept() -> None:
    assert lexical.stem("ssl") == "ssl"
    assert lexical.stem("h2c") == "h2c"


def test_bm25_prefers_the_rare_word_and_saturates_repetition() -> None:
    documents = [
        "connection refused by upstream",
        "connection refused by upstream EMFILE",
        "connection connection connection connection refused",
        "disk full",
    ]
    scores = lexical.bm25_scores("EMFILE connection refused", documents)
    assert scores[1] == max(scores)  # the word only one candidate has decides
    assert scores[3] == 0.0
    assert scores[2] < scores[1]  # repeating a common word does not win
    assert lexical.bm25_scores("", documents) == [0.0] * 4
    assert lexical.bm25_scores("x y", []) == []


def test_bm25_is_per_query_token() -> None:
    documents = ["disk full on data volume", "tls certificate expired"]
    short = lexical.bm25_scores("disk full", documents)[0]
    long = lexical.bm25_scores("disk full " + "unrelated words " * 10, documents)[0]
    assert long < short  # a long query's matches are spread over its many tokens
