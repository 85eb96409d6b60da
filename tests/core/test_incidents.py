"""Assessing one template's signals, and grouping findings into ranked incidents: fingerprints,
time windows, symptoms, related signatures, causes, and the sentences that say why."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from core_helpers import (
    Rec,
    at,
    entry,
    findings_of,
    incident,
    kb_of,
    repeat,
    signal,
    stats_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.incidents import (
    ALERT_THRESHOLD,
    MAX_LINES,
    WARNING_PERSISTS,
    TemplateFinding,
    _Group,
    _overlap,
    assess,
    group_findings,
    rank,
)
from aiops_copilot.models import Domain, Incident, Level, Severity, SignalKind

WINDOW = timedelta(minutes=5)

DISK = entry(
    "t-disk-full",
    domain=Domain.INFRASTRUCTURE,
    severity=Severity.MEDIUM,
    regex="No space left on device",
)
DB_WRITE = entry(
    "t-db-write", domain=Domain.DATABASE, severity=Severity.HIGH, regex="could not write to file"
)
POOL = entry(
    "t-pool", domain=Domain.DATABASE, severity=Severity.HIGH, regex="connection pool exhausted"
)
REFUSED = entry(
    "t-refused", domain=Domain.NETWORK, severity=Severity.CRITICAL, regex="Connection refused"
)
FAILED_PW = entry(
    "t-failed-password", domain=Domain.SECURITY, severity=Severity.MEDIUM, regex="Failed password"
)
INVALID_USER = entry(
    "t-invalid-user", domain=Domain.SECURITY, severity=Severity.MEDIUM, regex="Invalid user"
)
REVERSE_MAP = entry(
    "t-reverse-map",
    domain=Domain.SECURITY,
    severity=Severity.LOW,
    regex="reverse mapping checking",
)
KB = kb_of([DISK, DB_WRITE, POOL, REFUSED, FAILED_PW, INVALID_USER, REVERSE_MAP])


def _group(lines: list[Rec], window: timedelta = WINDOW) -> list[Incident]:
    return group_findings(findings_of(lines, KB), KB, window=window)


def _errors(message: str, count: int = 3, start: float = 0, **kwargs: object) -> list[Rec]:
    return repeat(message, count, start=start, level=kwargs.pop("level", Level.ERROR), **kwargs)


# -- assess ------------------------------------------------------------------------------------

S, SIG, NEW, BURST = SignalKind.SEVERITY, SignalKind.SIGNATURE, SignalKind.NOVELTY, SignalKind.BURST
H, M, L, NO, C = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO, Severity.CRITICAL
RETRY = "connection to replica lost, retrying in 5s"
PLAIN = "connection to replica lost"

ASSESS = [
    # (id, message, level, count, signals as (kind, score, severity), score, severity, alerting)
    ("no signals", PLAIN, Level.ERROR, 1, [], 0.0, NO, False),
    ("one severity signal", PLAIN, Level.ERROR, 1, [(S, 0.6, M)], 0.6, M, True),
    ("others add 15%", PLAIN, Level.ERROR, 1, [(NEW, 0.5, M), (S, 0.6, M)], 0.675, M, True),
    (
        "score capped at 1",
        PLAIN,
        Level.ERROR,
        1,
        [(SIG, 0.95, C), (S, 0.8, H), (NEW, 0.9, M)],
        1.0,
        C,
        True,
    ),
    ("signature decides up", PLAIN, Level.ERROR, 1, [(S, 0.6, M), (SIG, 0.9, H)], 0.99, H, True),
    (
        "signature decides down",
        PLAIN,
        Level.CRITICAL,
        1,
        [(S, 0.8, H), (SIG, 0.1, NO)],
        0.1,
        NO,
        False,
    ),
    (
        "low signature on a fatal line",
        PLAIN,
        Level.CRITICAL,
        1,
        [(S, 0.8, H), (SIG, 0.3, L)],
        0.845,
        L,
        True,
    ),
    (
        "warned retry is advisory",
        RETRY,
        Level.WARNING,
        3,
        [(S, 0.2, L), (SIG, 0.9, H)],
        0.3,
        L,
        False,
    ),
    (
        "persistent warned retry",
        RETRY,
        Level.WARNING,
        WARNING_PERSISTS,
        [(S, 0.2, L), (SIG, 0.9, H)],
        0.93,
        M,
        True,
    ),
    ("retry logged as error", RETRY, Level.ERROR, 3, [(S, 0.6, M), (SIG, 0.9, H)], 0.99, H, True),
    ("warning without retry", PLAIN, Level.WARNING, 3, [(S, 0.2, L), (SIG, 0.9, H)], 0.93, H, True),
    (
        "statistical only capped",
        PLAIN,
        Level.INFO,
        1,
        [(NEW, 0.7, H), (BURST, 0.6, H)],
        0.79,
        M,
        True,
    ),
    (
        "statistical with severity",
        PLAIN,
        Level.CRITICAL,
        1,
        [(NEW, 0.7, H), (S, 0.8, H)],
        0.905,
        H,
        True,
    ),
    (
        "below threshold",
        PLAIN,
        Level.UNKNOWN,
        1,
        [(S, ALERT_THRESHOLD - 0.01, L)],
        ALERT_THRESHOLD - 0.01,
        L,
        False,
    ),
    ("at threshold", PLAIN, Level.UNKNOWN, 1, [(S, ALERT_THRESHOLD, L)], ALERT_THRESHOLD, L, True),
    ("info chatter never alerts", PLAIN, Level.INFO, 1, [(NEW, 0.6, NO)], 0.6, NO, False),
]


@pytest.mark.parametrize(
    ("message", "level", "count", "raw", "score", "severity", "alerting"),
    [a[1:] for a in ASSESS],
    ids=[a[0] for a in ASSESS],
)
def test_assess_table(
    message: str,
    level: Level,
    count: int,
    raw: list[tuple[SignalKind, float, Severity]],
    score: float,
    severity: Severity,
    alerting: bool,
) -> None:
    stats = stats_of([Rec(message, level, at=at(i)) for i in range(count)])
    signals = [
        signal(
            kind,
            stats.template_id,
            score=s,
            severity=sev,
            entry_id="t-pool" if kind is SIG else None,
        )
        for kind, s, sev in raw
    ]
    found = assess(stats, signals, None)
    assert found.score == pytest.approx(score)
    assert found.severity is severity
    assert found.alerting is alerting
    assert [s.score for s in found.signals] == sorted((s for _, s, _ in raw), reverse=True)
    assert found.entry_id == ("t-pool" if any(k is SIG for k, _, _ in raw) else None)


def test_noise_never_alerts() -> None:
    stats = stats_of([Rec(PLAIN, Level.CRITICAL)])
    found = assess(stats, [signal(S, stats.template_id, score=0.8, severity=H)], "routine probe")
    assert found.noise == "routine probe"
    assert found.alerting is False


# -- grouping ----------------------------------------------------------------------------------

CHECKOUT = "checkout request aborted: connection pool exhausted"
EXPORT = "connection pool exhausted, nightly export job gave up"


def test_one_template_one_incident_with_its_facts() -> None:
    lines = _errors(CHECKOUT, 4, service="api", host="web1")
    (found,) = _group(lines)
    assert found.severity is Severity.HIGH
    assert found.title == "title of t-pool"
    assert found.entry_ids == ["t-pool"]
    assert found.count == 4
    assert (found.first_seen, found.last_seen) == (at(0), at(3))
    assert (found.services, found.hosts, found.sources) == (["api"], ["web1"], ["app.log"])
    assert [ref.line_no for ref in found.lines] == [1, 2, 3, 4]
    assert sum(found.minutes.values()) == 4
    assert found.grouped_because == ["same known signature t-pool on api"]
    assert {s.kind for s in found.signals} == {SignalKind.SIGNATURE, SignalKind.SEVERITY}


def test_non_alerting_findings_make_no_incident() -> None:
    lines = [Rec("cache rebuild slow", Level.WARNING, at=at(0)), Rec("order 1 shipped", at=at(1))]
    assert _group(lines) == []


def test_same_signature_on_two_services_at_once_is_one_incident() -> None:
    lines = _errors(CHECKOUT, service="api") + _errors(EXPORT, service="worker", start=1)
    (found,) = _group(lines)
    assert found.count == 6
    assert set(found.services) == {"api", "worker"}
    assert "the same signature on worker within 5 min of api" in found.grouped_because


def test_same_signature_on_two_services_an_hour_apart_is_two_incidents() -> None:
    lines = _errors(CHECKOUT, service="api") + _errors(EXPORT, service="worker", start=60)
    incidents = _group(lines)
    assert sorted(i.services[0] for i in incidents) == ["api", "worker"]


def test_related_signatures_of_one_domain_merge() -> None:
    lines = _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    lines += _errors(
        "Invalid user admin from 203.0.113.7 port 4100",
        5,
        start=0.5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    (found,) = _group(lines)
    assert set(found.entry_ids) == {"t-failed-password", "t-invalid-user"}
    assert found.count == 10
    assert any(
        "related security signature t-invalid-user from sshd in the same window" in reason
        for reason in found.grouped_because
    )


def test_related_signatures_claim_a_shared_address_only_when_there_is_one() -> None:
    """Merged for their service and band, two attackers' lines do not 'name the same
    address': the sentence compares the groups before they are one."""
    lines = _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    lines += _errors(
        "Invalid user admin from 198.51.100.9 port 4100",
        5,
        start=0.5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    (found,) = _group(lines)
    assert set(found.entry_ids) == {"t-failed-password", "t-invalid-user"}
    (why,) = [w for w in found.grouped_because if "related security signature" in w]
    assert "same address" not in why


def test_related_signatures_in_different_severity_bands_stay_apart() -> None:
    lines = _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    lines += _errors(
        "reverse mapping checking getaddrinfo for x [gw.example.net] failed",
        5,
        start=0.5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    incidents = _group(lines)
    assert [(i.entry_ids, i.severity) for i in incidents] == [
        (["t-failed-password"], Severity.MEDIUM),
        (["t-reverse-map"], Severity.LOW),
    ]


def test_unknown_error_in_a_known_problem_window_joins_it() -> None:
    lines = _errors(CHECKOUT, service="api") + _errors(
        "order 42 could not be saved", start=1, service="api"
    )
    (found,) = _group(lines)
    assert found.entry_ids == ["t-pool"]
    assert found.count == 6
    assert found.severity is Severity.HIGH
    assert any(
        reason.startswith(
            "symptom: 'order <NUM> could not be saved' (3x) happened in the same file within 5 min"
        )
        for reason in found.grouped_because
    )


def test_unknown_error_outside_the_window_stays_apart() -> None:
    lines = _errors(CHECKOUT, service="api") + _errors(
        "order 42 could not be saved", start=30, service="api"
    )
    assert len(_group(lines)) == 2


def test_unknown_error_more_severe_than_the_known_problem_stays_apart() -> None:
    """A minor known advisory must not swallow (and so hide) a worse unknown failure."""
    lines = _errors(
        "reverse mapping checking getaddrinfo for x [gw.example.net] failed",
        3,
        level=Level.UNKNOWN,
        service="sshd",
    )
    lines += _errors(
        "sshd daemon crashed with signal 11", 1, start=1, level=Level.CRITICAL, service="sshd"
    )
    incidents = _group(lines)
    assert [(i.severity, i.entry_ids) for i in incidents] == [
        (Severity.HIGH, []),
        (Severity.LOW, ["t-reverse-map"]),
    ]


def test_unknown_error_on_another_system_joins_with_a_different_sentence() -> None:
    lines = _errors(CHECKOUT, service="api", source="api.log")
    lines += _errors("order 42 could not be saved", start=1, service="api", source="worker.log")
    (found,) = _group(lines)
    assert any("happened on the same system" in reason for reason in found.grouped_because)


@pytest.mark.parametrize(("other_source", "expected"), [("app.log", 1), ("other.log", 2)])
def test_unknown_neighbours_in_one_file_merge(other_source: str, expected: int) -> None:
    lines = _errors("payment gateway call failed", 2)
    lines += _errors("ledger row missing for invoice", 2, start=2, source=other_source)
    incidents = _group(lines)
    assert len(incidents) == expected
    if expected == 1:
        assert incidents[0].grouped_because == [
            "same template on app.log",
            "'ledger row missing for invoice' happened in the same file within 5 min",
        ]


@pytest.mark.parametrize(("window", "expected"), [(timedelta(minutes=1), 2), (WINDOW, 1)])
def test_the_window_decides_what_is_close(window: timedelta, expected: int) -> None:
    lines = _errors("payment gateway call failed", 1) + _errors(
        "ledger row missing for invoice", 1, start=3
    )
    assert len(_group(lines, window)) == expected


def _month(month: int) -> datetime:
    return datetime(2024, month, 1, 12, tzinfo=UTC)


def test_june_and_december_do_not_overlap_september() -> None:
    lines = [
        Rec("payment gateway call failed", Level.ERROR, at=_month(6)),
        Rec("payment gateway call failed", Level.ERROR, at=_month(12)),
        Rec("ledger row missing for invoice", Level.ERROR, at=_month(9)),
    ]
    assert len(_group(lines)) == 2
    lines[2] = Rec(CHECKOUT, Level.ERROR, at=_month(9))
    lines[:2] = [Rec("order 42 could not be saved", Level.ERROR, at=_month(m)) for m in (6, 12)]
    incidents = _group(lines)
    assert len(incidents) == 2
    assert all(i.grouped_because[0].startswith("same ") for i in incidents)


def test_known_cause_links_its_symptom_and_inherits_its_severity() -> None:
    lines = _errors("write failed: No space left on device", service="postgres")
    lines += _errors("could not write to file base/16384/2619", start=1, service="postgres")
    cause, symptom = _group(lines)
    assert cause.entry_ids == ["t-disk-full"]
    assert symptom.entry_ids == ["t-db-write"]
    assert symptom.caused_by == cause.id
    assert cause.symptoms == [symptom.id]
    assert cause.caused_by is None
    assert cause.severity is Severity.HIGH
    assert f"severity raised to high by its symptom {symptom.id}" in cause.grouped_because


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "connect() failed (111: Connection refused) while connecting to upstream",
            "could not write to file base/16384/2619",
        ),
        (
            "could not write to file base/16384/2619",
            "connect() failed (111: Connection refused) while connecting to upstream",
        ),
    ],
)
def test_cause_is_chosen_by_domain_precedence_not_input_order(first: str, second: str) -> None:
    lines = _errors(first, service="a") + _errors(second, service="b", start=1)
    incidents = {i.entry_ids[0]: i for i in _group(lines)}
    assert incidents["t-refused"].caused_by == incidents["t-db-write"].id
    assert incidents["t-db-write"].caused_by is None
    assert incidents["t-db-write"].severity is Severity.CRITICAL


def test_security_problems_are_never_linked_as_cause_or_symptom() -> None:
    lines = _errors("write failed: No space left on device", service="postgres")
    lines += _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        start=1,
        level=Level.UNKNOWN,
        service="sshd",
    )
    incidents = _group(lines)
    assert len(incidents) == 2
    assert all(i.caused_by is None and i.symptoms == [] for i in incidents)


def _chain(order: list[int]) -> dict[str, Incident]:
    """disk full (minute 0) -> database (minutes 4-8) -> refused upstream (minute 12): each
    overlaps the next within five minutes, the first does not overlap the last."""
    parts = [
        _errors("write failed: No space left on device", 1, service="a"),
        _errors("could not write to file base/16384/2619", 5, start=4, service="b"),
        _errors(
            "connect() failed (111: Connection refused) while connecting to upstream",
            1,
            start=12,
            service="c",
        ),
    ]
    lines = [line for index in order for line in parts[index]]
    return {i.entry_ids[0]: i for i in _group(lines)}


def test_a_chain_of_causes_links_each_to_the_next() -> None:
    incidents = _chain([2, 1, 0])
    assert incidents["t-db-write"].caused_by == incidents["t-disk-full"].id
    assert incidents["t-refused"].caused_by == incidents["t-db-write"].id
    assert incidents["t-disk-full"].severity is Severity.CRITICAL


def test_a_root_cause_carries_its_chain_severity_whatever_the_input_order() -> None:
    incidents = _chain([0, 1, 2])
    assert incidents["t-disk-full"].severity is Severity.CRITICAL


def test_every_incident_says_why_it_was_grouped() -> None:
    lines = _errors(CHECKOUT, service="api") + _errors("payment gateway call failed", start=40)
    lines += _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        start=80,
        level=Level.UNKNOWN,
        service="sshd",
    )
    incidents = _group(lines)
    assert len(incidents) == 3
    assert all(i.grouped_because and all(r.strip() for r in i.grouped_because) for i in incidents)


def test_fingerprints_and_ids_are_stable_across_runs() -> None:
    def run() -> list[tuple[str, str]]:
        lines = _errors(CHECKOUT, service="api") + _errors("payment gateway call failed", start=40)
        return sorted((i.id, i.fingerprint) for i in _group(lines))

    first = run()
    assert first == run()
    fingerprints = {fp for _, fp in first}
    assert "sig:t-pool|svc:api" in fingerprints
    (unknown,) = fingerprints - {"sig:t-pool|svc:api"}
    assert unknown.startswith("tpl:T") and unknown.endswith("|svc:app.log")
    for incident_id, fingerprint in first:
        assert incident_id == "INC-" + hashlib.sha1(fingerprint.encode()).hexdigest()[:10]


def test_service_falls_back_to_the_file_name() -> None:
    lines = _errors("payment gateway call failed", source="/var/log/shop/app.log")
    (found,) = _group(lines)
    assert found.fingerprint.endswith("|svc:app.log")


def test_evidence_lines_are_capped_and_taken_in_turn() -> None:
    messages = [
        "extract failed for batch",
        "transform step crashed while reading batch rows",
        "load aborted",
        "index rebuild could not lock the table for batch",
        "notify hook returned garbage to the scheduler for this batch run",
        "archive upload rejected by bucket policy",
    ]
    lines = [Rec(f"{m} {n}", Level.ERROR, at=at(n / 10)) for n in range(9) for m in messages]
    (found,) = _group(lines)
    assert len(found.templates) == 6
    assert len(found.lines) == MAX_LINES
    keys = [(ref.source, ref.line_no) for ref in found.lines]
    assert len(set(keys)) == len(keys)
    first_of_each = {ref.text.split()[0] for ref in found.lines[:6]}
    assert len(first_of_each) == 6


# -- ranking -----------------------------------------------------------------------------------


def _ranked(*specs: tuple[str, Severity, float, int, str | None]) -> list[str]:
    made = []
    for name, severity, score, count, caused_by in specs:
        inc = incident([name], incident_id=name, severity=severity)
        inc.score, inc.count, inc.caused_by = score, count, caused_by
        made.append(inc)
    return [i.id for i in rank(made)]


def test_rank_by_severity_then_cause_then_score_then_count_then_id() -> None:
    assert _ranked(
        ("low", Severity.LOW, 0.99, 100, None),
        ("crit", Severity.CRITICAL, 0.5, 1, None),
        ("high-symptom", Severity.HIGH, 0.99, 9, "high-cause"),
        ("high-cause", Severity.HIGH, 0.5, 1, None),
        ("high-b", Severity.HIGH, 0.5, 1, None),
        ("high-score", Severity.HIGH, 0.9, 1, None),
        ("high-count", Severity.HIGH, 0.5, 5, None),
    ) == ["crit", "high-score", "high-count", "high-b", "high-cause", "high-symptom", "low"]


def test_group_findings_returns_incidents_ranked() -> None:
    lines = _errors("payment gateway call failed", start=40) + _errors(CHECKOUT, service="api")
    incidents = _group(lines)
    assert [i.severity for i in incidents] == [Severity.HIGH, Severity.MEDIUM]


# -- the overlap rule --------------------------------------------------------------------------


def _group_at(minutes: list[int], source: str = "app.log") -> _Group:
    stats = stats_of([Rec("order 1 failed", Level.ERROR, source=source)])
    stats.minutes.clear()
    stats.minutes.update(minutes)
    finding = TemplateFinding(stats, [], 0.6, Severity.MEDIUM, None)
    return _Group([finding], key="k", service="s")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=12),
    st.lists(st.integers(0, 400), min_size=1, max_size=12),
    st.integers(1, 30),
)
def test_overlap_is_any_two_minutes_within_the_window(
    a: list[int], b: list[int], window: int
) -> None:
    expected = any(abs(x - y) <= window for x in a for y in b)
    left, right = _group_at(a), _group_at(b)
    assert _overlap(left, right, timedelta(minutes=window)) is expected
    assert _overlap(right, left, timedelta(minutes=window)) is expected


@pytest.mark.parametrize(("other", "expected"), [("app.log", True), ("other.log", False)])
def test_overlap_without_times_is_the_same_file(other: str, expected: bool) -> None:
    assert _overlap(_group_at([]), _group_at([], other), WINDOW) is expected
    assert _overlap(_group_at([5]), _group_at([], other), WINDOW) is expected


def test_the_same_address_in_two_logs_is_one_incident_whatever_the_band() -> None:
    lines = _errors(
        "Failed password for root from 203.0.113.7 port 4022 ssh2",
        5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    lines += _errors(
        "reverse mapping checking getaddrinfo for x [203.0.113.7] failed",
        5,
        start=0.5,
        level=Level.UNKNOWN,
        service="sshd",
    )
    (found,) = _group(lines)
    assert found.entry_ids == ["t-failed-password", "t-reverse-map"]
    assert any("same address 203.0.113.7" in why for why in found.grouped_because)
