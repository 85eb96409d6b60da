"""The signature signal: which texts of a template are tried, which entry wins, what the
signal says. Entries are written here so the tests do not move with the shipped runbooks."""

from __future__ import annotations

import pytest
from core_helpers import Rec, at, by_template, collect, entry, kb_of, shipped_kb, stats_of

from aiops_copilot.detect.signatures import best_entry, first_match, signature_signals, texts_of
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Domain, Level, Severity, SignalKind

REFUSED = entry("test-refused", domain=Domain.NETWORK, severity=Severity.HIGH, regex="ECONNREFUSED")
SLOW = entry("test-slow", domain=Domain.NETWORK, severity=Severity.LOW, regex="took too long")
DISK = entry(
    "test-disk", domain=Domain.INFRASTRUCTURE, severity=Severity.CRITICAL, regex="No space left"
)
CLIENT = entry(
    "test-client-ip",
    domain=Domain.SECURITY,
    severity=Severity.MEDIUM,
    regex=r"client: 203\.0\.113\.\d+",
)
NOTE = entry("test-note", domain=Domain.NETWORK, severity=Severity.INFO, regex="register dump")


def test_texts_of_a_plain_template_is_its_example() -> None:
    stats = stats_of([Rec("order 42 failed", Level.ERROR)])
    assert texts_of(stats) == ["order 42 failed"]


def test_texts_of_adds_structured_error_details() -> None:
    stats = stats_of(
        [
            Rec(
                "request failed",
                Level.ERROR,
                fields={"err": {"code": "ECONNREFUSED", "port": 5432}, "status": 500},
                raw='{"msg":"request failed","err":{"code":"ECONNREFUSED","port":5432}}',
            )
        ]
    )
    texts = texts_of(stats)
    assert texts[0] == "request failed"
    assert texts[1] == "request failed err.code=ECONNREFUSED err.port=5432"
    assert texts[2].startswith('{"msg"')
    assert len(texts) == 3


def test_texts_of_adds_the_first_and_latest_raw_lines() -> None:
    raws = [
        f"2024/05/01 12:00:0{i} [error] 7#7: *{i} upstream prematurely closed connection, "
        f"client: 10.0.0.{i}"
        for i in range(5)
    ]
    lines = [
        Rec("upstream prematurely closed connection", Level.ERROR, at=at(i), raw=raw)
        for i, raw in enumerate(raws)
    ]
    texts = texts_of(stats_of(lines))
    assert texts == ["upstream prematurely closed connection", raws[0], raws[-1]]


def test_texts_of_does_not_repeat_a_raw_line_equal_to_the_example() -> None:
    stats = stats_of([Rec("disk is fine", Level.INFO), Rec("disk is fine", Level.INFO)])
    assert texts_of(stats) == ["disk is fine"]


def test_first_match_is_the_first_entry_in_order() -> None:
    entries = [DISK, REFUSED, SLOW]
    assert first_match(entries, "connect ECONNREFUSED and took too long") is REFUSED
    assert first_match([SLOW, REFUSED], "connect ECONNREFUSED and took too long") is SLOW
    assert first_match(entries, "all good") is None


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["request took too long"], SLOW),
        (["request took too long", "connect ECONNREFUSED 10.0.0.5:5432"], REFUSED),
        (["connect ECONNREFUSED", "write: No space left on device"], DISK),
        (["write: No space left on device", "request took too long"], DISK),
        (["nothing here", "still nothing"], None),
        ([], None),
    ],
)
def test_best_entry_most_severe_wins(texts: list[str], expected: Entry | None) -> None:
    kb = kb_of([SLOW, REFUSED, DISK])
    assert best_entry(kb.matching_order(), texts) is expected


def test_signature_matched_on_the_raw_line_only() -> None:
    """Formats move parts of a line into fields (nginx's ``client:``); the raw line keeps them."""
    lines = [
        Rec(
            "access forbidden by rule",
            Level.ERROR,
            at=at(0),
            raw="2024/05/01 12:00:00 [error] 7#7: *1 access forbidden by rule, client: 203.0.113.9",
        )
    ]
    signals = signature_signals(kb_of([CLIENT]), [stats_of(lines)])
    assert [s.entry_id for s in signals] == ["test-client-ip"]


def test_signature_matched_on_structured_detail_only() -> None:
    lines = [Rec("request failed", Level.ERROR, fields={"error": {"code": "ECONNREFUSED"}})]
    signals = signature_signals(kb_of([REFUSED]), [stats_of(lines)])
    assert [s.entry_id for s in signals] == ["test-refused"]


@pytest.mark.parametrize(
    ("known", "text", "score"),
    [
        (DISK, "write failed: No space left on device", 0.95),
        (REFUSED, "connect ECONNREFUSED 10.0.0.5:5432", 0.9),
        (CLIENT, "denied, client: 203.0.113.9", 0.75),
        (SLOW, "request took too long", 0.3),
        (NOTE, "register dump follows", 0.1),
    ],
    ids=["critical", "high", "medium", "low", "info"],
)
def test_entry_severity_gives_the_score(known: Entry, text: str, score: float) -> None:
    (found,) = signature_signals(kb_of([known]), [stats_of([Rec(text, Level.ERROR)])])
    assert found.score == pytest.approx(score)
    assert found.severity is known.severity
    assert found.entry_id == known.id


def test_one_signal_per_matching_template_with_its_counts_and_times() -> None:
    lines = [
        *[Rec("connect ECONNREFUSED 10.0.0.5:5432", Level.ERROR, at=at(i)) for i in range(4)],
        Rec("request took too long", Level.WARNING, at=at(10)),
        Rec("order shipped to customer", Level.INFO, at=at(11)),
    ]
    _, templates = collect(lines)
    signals = signature_signals(kb_of([SLOW, REFUSED]), templates)
    assert len(signals) == 2
    refused = by_template(templates, "ECONNREFUSED")
    first = next(s for s in signals if s.template_id == refused.template_id)
    assert first.kind is SignalKind.SIGNATURE
    assert first.entry_id == "test-refused"
    assert first.count == 4
    assert (first.first_seen, first.last_seen) == (at(0), at(3))
    assert first.reason == "known signature test-refused (testware): title of test-refused"


def test_no_entries_no_signals() -> None:
    stats = stats_of([Rec("connect ECONNREFUSED 10.0.0.5:5432", Level.ERROR)])
    assert signature_signals(kb_of([]), [stats]) == []


def test_shipped_knowledge_base_recognises_a_real_postgres_line() -> None:
    stats = stats_of([Rec("sorry, too many clients already", Level.CRITICAL)])
    (found,) = signature_signals(shipped_kb(), [stats])
    assert found.entry_id == "postgresql-too-many-clients"
    assert found.severity is Severity.HIGH
