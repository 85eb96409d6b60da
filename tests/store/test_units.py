"""Small pure pieces: durations, the history line every report prints, the JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aiops_copilot.models import IncidentHistory, IncidentStatus
from aiops_copilot.report.incidents_json import incident_to_dict
from aiops_copilot.report.view import history_line
from aiops_copilot.store import records
from aiops_copilot.store.durations import cutoff, parse_duration
from aiops_copilot.store.types import log_time, utc
from store.store_samples import make_incident

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("90m", timedelta(minutes=90)),
        ("90min", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("1.5h", timedelta(minutes=90)),
        (" 30D ", timedelta(days=30)),
        ("0s", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert cutoff(text, NOW) == NOW - expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30+02:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_dates(text: str, expected: datetime) -> None:
    assert cutoff(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "7", "3 months", "7y", "-1d", "2026-13-01"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        cutoff(text, NOW)


FIRST = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
RESOLVED = datetime(2026, 11, 5, 10, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (None, None),
        (
            IncidentHistory(4, FIRST, NOW, IncidentStatus.OPEN),
            "seen 4 times since 2026-11-02",
        ),
        (
            IncidentHistory(4, FIRST, NOW, IncidentStatus.RECURRED, RESOLVED, "PgBouncer"),
            "seen 4 times since 2026-11-02, last resolved by: PgBouncer (2026-11-05) — recurred",
        ),
        (
            IncidentHistory(2, FIRST, NOW, IncidentStatus.RECURRED, RESOLVED, None),
            "seen 2 times since 2026-11-02, last resolved 2026-11-05 — recurred",
        ),
        (
            IncidentHistory(1, FIRST, NOW, IncidentStatus.RESOLVED, RESOLVED, "x", True),
            "stored before from these same logs; seen 1 time since 2026-11-02, "
            "last resolved by: x (2026-11-05) — resolved",
        ),
    ],
)
def test_history_line(history: IncidentHistory | None, expected: str | None) -> None:
    assert history_line(history) == expected


def test_the_columns_give_the_contract_back() -> None:
    for incident in (make_incident("a"), make_incident("b", start=None)):
        parts = records.split(incident)
        assert set(parts) == {"diagnosis", "signals", "evidence", "classification", "details"}
        expected = incident_to_dict(incident)
        expected.pop("history")
        assert records.join(**parts) == expected
    bare = make_incident("c")
    bare.diagnosis = None
    expected = incident_to_dict(bare)
    expected.pop("history")
    parts = records.split(bare)
    assert parts["diagnosis"] is None and records.join(**parts) == expected


def test_times() -> None:
    plus2 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert log_time(plus2) == datetime(2026, 11, 2, 8, 0)
    assert log_time(datetime(2026, 11, 2, 8, 0)) == datetime(2026, 11, 2, 8, 0)
    assert log_time(None) is None
    assert utc(datetime(2026, 11, 2, 8, 0)) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert utc(plus2) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
