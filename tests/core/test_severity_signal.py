"""The severity signal: what a template's own levels, HTTP statuses, exit codes and words say.

Each case is a handful of records mined into one template by the real miner and collector;
the expected result is (score, severity, a fragment of the reason) or None for no signal.
"""

from __future__ import annotations

import pytest
from core_helpers import Rec, at, stats_of
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect.severity import severity_signal
from aiops_copilot.models import Level, Severity, SignalKind

Expected = tuple[float, Severity, str] | None


def _recs(message: str, *levels: Level, statuses: tuple[int, ...] = ()) -> list[Rec]:
    """One record per level (or per status, all at INFO, with the status as a field)."""
    if statuses:
        return [
            Rec(message, Level.INFO, at=at(i), fields={"status": s}) for i, s in enumerate(statuses)
        ]
    return [Rec(message, level, at=at(i)) for i, level in enumerate(levels)]


CASES: list[tuple[str, list[Rec], Expected]] = [
    # Levels: CRITICAL and worse are high, ERROR is medium, WARNING alone is weak.
    (
        "critical",
        _recs("disk controller reset", Level.CRITICAL, Level.CRITICAL),
        (0.8, Severity.HIGH, "2 record(s) at level CRITICAL"),
    ),
    (
        "worst level named",
        _recs("disk controller reset", Level.ERROR, Level.EMERGENCY, Level.ALERT),
        (0.8, Severity.HIGH, "2 record(s) at level EMERGENCY"),
    ),
    (
        "error",
        _recs("order sync aborted", Level.ERROR, Level.ERROR, Level.ERROR),
        (0.6, Severity.MEDIUM, "3 record(s) at level ERROR"),
    ),
    (
        "error beats warning",
        _recs("order sync aborted", Level.WARNING, Level.ERROR),
        (0.6, Severity.MEDIUM, "1 record(s) at level ERROR"),
    ),
    (
        "warning only",
        _recs("cache rebuild slow", *[Level.WARNING] * 4),
        (0.2, Severity.LOW, "4 record(s) at level WARNING"),
    ),
    ("info only", _recs("order 42 shipped", Level.INFO, Level.INFO), None),
    ("debug with failure words", _recs("cache lookup failed, error ignored", Level.DEBUG), None),
    # Levelled lines are trusted: an INFO line that says "failed" is not an error.
    ("info with failure words", _recs("retry of job failed once, will retry", Level.INFO), None),
    # HTTP 5xx from the status field: a blip, a run, a storm.
    (
        "one 5xx",
        _recs("request served", statuses=(503,)),
        (0.3, Severity.MEDIUM, "1 request(s) answered with HTTP 5xx"),
    ),
    (
        "a run of 5xx",
        _recs("request served", statuses=(502, 502, 504)),
        (0.6, Severity.MEDIUM, "3 request(s) answered with HTTP 5xx"),
    ),
    (
        "a storm of 5xx",
        _recs("request served", statuses=(500,) * 20),
        (0.6, Severity.HIGH, "20 request(s) answered with HTTP 5xx"),
    ),
    (
        "5xx counted among 2xx",
        _recs("request served", statuses=(200,) * 10 + (502, 502)),
        (0.3, Severity.MEDIUM, "2 request(s) answered with HTTP 5xx"),
    ),
    ("2xx and 4xx", _recs("request served", statuses=(200, 404, 401, 201)), None),
    # Non-zero exits, unless the software logged them at INFO.
    (
        "exit code",
        _recs("worker exited with code 3", Level.UNKNOWN),
        (0.55, Severity.MEDIUM, "a process exited with status 3 (1x)"),
    ),
    (
        "exit status at warning",
        _recs("child process exited with status 137", Level.WARNING, Level.WARNING),
        (0.55, Severity.MEDIUM, "a process exited with status 137 (2x)"),
    ),
    (
        "python subprocess",
        _recs("Command '['make']' returned non-zero exit status 2.", Level.UNKNOWN),
        (0.55, Severity.MEDIUM, "a process exited with status 2"),
    ),
    ("exit code zero", _recs("worker exited with code 0", Level.UNKNOWN), None),
    ("exit at info", _recs("worker exited with code 3", Level.INFO), None),
    # No level at all: the words software uses when something failed.
    (
        "unlevelled failure word",
        _recs("connect to 10.0.0.5:5432 refused by peer", Level.UNKNOWN),
        (0.35, Severity.LOW, "1 record(s) without a level saying 'refused'"),
    ),
    (
        "notice counts as unlevelled",
        _recs("backup could not finish in time", Level.NOTICE),
        (0.35, Severity.LOW, "without a level saying 'could not'"),
    ),
    (
        "timed out",
        _recs("lease renewal timed out", Level.UNKNOWN),
        (0.35, Severity.LOW, "saying 'timed out'"),
    ),
    ("unlevelled routine", _recs("session closed for deploy", Level.UNKNOWN), None),
    ("failure words are whole words", _recs("errorless run, no failures", Level.UNKNOWN), None),
]


@pytest.mark.parametrize(("lines", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_severity_signal_table(lines: list[Rec], expected: Expected) -> None:
    stats = stats_of(lines)
    found = severity_signal(stats)
    if expected is None:
        assert found is None
        return
    score, severity, reason = expected
    assert found is not None
    assert found.kind is SignalKind.SEVERITY
    assert found.score == pytest.approx(score)
    assert found.severity is severity
    assert reason in found.reason
    assert found.template_id == stats.template_id
    assert (found.first_seen, found.last_seen) == (stats.first_seen, stats.last_seen)


def test_critical_level_wins_over_5xx_and_exit_codes() -> None:
    lines = [
        Rec("worker exited with code 9", Level.CRITICAL, fields={"status": 502}),
        Rec("worker exited with code 9", Level.ERROR, fields={"status": 502}),
    ]
    found = severity_signal(stats_of(lines))
    assert found is not None
    assert (found.severity, found.count) == (Severity.HIGH, 1)
    assert "level CRITICAL" in found.reason


def test_error_level_wins_over_a_5xx_status() -> None:
    lines = [Rec("upstream call done", Level.ERROR, fields={"status": 502}) for _ in range(3)]
    found = severity_signal(stats_of(lines))
    assert found is not None
    assert "level ERROR" in found.reason and found.score == 0.6


def test_count_is_the_records_behind_the_reason() -> None:
    lines = _recs("order sync aborted", Level.INFO, Level.ERROR, Level.INFO, Level.ERROR)
    found = severity_signal(stats_of(lines))
    assert found is not None
    assert found.count == 2


@pytest.mark.parametrize(
    "message",
    [
        "method=GET path=/index.html status=200 duration=3ms",
        "method=GET path=/missing status=404 duration=1ms",
    ],
)
def test_http_status_field_in_text_is_not_an_exit_status(message: str) -> None:
    assert severity_signal(stats_of(_recs(message, Level.UNKNOWN))) is None


def test_a_5xx_status_never_weakens_an_error_record() -> None:
    plain = severity_signal(stats_of([Rec("upstream inventory failed", Level.ERROR)]))
    with_status = severity_signal(
        stats_of([Rec("upstream inventory failed", Level.ERROR, fields={"status": 502})])
    )
    assert plain is not None and with_status is not None
    assert with_status.score >= plain.score


LEVELS = list(Level)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=25))
def test_levels_alone_decide_for_a_neutral_message(levels: list[Level]) -> None:
    """With no status, exit code or failure word, only the levels matter: no signal below
    WARNING, high exactly when something reached CRITICAL, and the count is what was bad."""
    found = severity_signal(stats_of(_recs("nightly report generated", *levels)))
    worst = max(levels)
    if worst < Level.WARNING:
        assert found is None
        return
    assert found is not None
    assert 0.0 < found.score <= 1.0
    if worst >= Level.CRITICAL:
        assert found.severity is Severity.HIGH
        assert found.count == sum(1 for lvl in levels if lvl >= Level.CRITICAL)
    elif worst >= Level.ERROR:
        assert found.severity is Severity.MEDIUM
        assert found.count == levels.count(Level.ERROR)
    else:
        assert found.severity is Severity.LOW
        assert found.count == levels.count(Level.WARNING)
