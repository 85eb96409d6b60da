"""The retrieval quality gate: on the held-out split of tests/data/retrieval, the right runbook
section or past incident is in the top 3 for at least 90% of queries (bench/retrieval.py
writes the full figures; the mix was tuned on the development split only)."""

from __future__ import annotations

import pytest

from retrieval import DEV, HELD_OUT, evaluate, load_queries


@pytest.fixture(scope="module")
def results():  # type: ignore[no-untyped-def]
    return evaluate()


def test_the_data_set_is_big_enough_and_split() -> None:
    queries = load_queries()
    held_out = [q for q in queries if q.split == HELD_OUT]
    assert len(held_out) >= 30
    assert {q.split for q in queries} == {DEV, HELD_OUT}
    assert all(q.runbook for q in queries)  # every query is labelled


def test_held_out_top3(results) -> None:  # type: ignore[no-untyped-def]
    runbooks, incidents = results[f"runbooks/{HELD_OUT}"], results[f"incidents/{HELD_OUT}"]
    assert runbooks.total >= 30
    hits = runbooks.top3 + incidents.top3
    total = runbooks.total + incidents.total
    assert hits / total >= 0.90
    assert runbooks.top3 / runbooks.total >= 0.90
    assert incidents.top3 / incidents.total >= 0.80
