"""The facts every renderer shares: headline counts, timelines, safe text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from report_samples import (
    bare_incident,
    database_incident,
    empty_result,
    full_result,
    network_incident,
)

from aiops_copilot.models import AnalysisResult, Severity
from aiops_copilot.report.view import (
    confidence_of,
    detection_line,
    evidence_of,
    headline,
    printable,
    severity_counts,
    sparkline,
    timeline,
    when,
)


def test_headline_counts_severities_worst_first_and_reading() -> None:
    text = headline(full_result())
    assert text.startswith("3 incidents: 1 critical, 1 high, 1 low · ")
    assert "2,400 lines read from 2 sources (1 skipped)" in text
    assert "logs/postgresql.log" in text


def test_headline_without_incidents_or_summary() -> None:
    assert headline(empty_result()).startswith("No incidents · 2,400 lines read")
    assert headline(AnalysisResult([], {})) == "No incidents"
    one = AnalysisResult([bare_incident()], {})
    assert headline(one) == "1 incident: 1 low"


def test_severity_counts_order() -> None:
    incidents = [bare_incident(), network_incident(), database_incident(), network_incident()]
    assert list(severity_counts(incidents).items()) == [
        (Severity.CRITICAL, 1),
        (Severity.HIGH, 2),
        (Severity.LOW, 1),
    ]


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        (
            {"signals": {"severity": 3, "burst": 1}, "noise_suppressed": 1520},
            "signals: severity 3, burst 1; noise suppressed 1,520",
        ),
        ({"signals": {}}, "signals: none"),
        ({"kinds": ["a", "b"], "ratio": 0.5, "on": True}, "kinds: a, b; ratio 0.5; on true"),
        ({}, None),
        ("not a mapping", None),
    ],
)
def test_detection_line_reads_any_shape(detection: object, expected: str | None) -> None:
    assert detection_line({"detection": detection}) == expected


@pytest.mark.parametrize(
    ("minutes", "max_bins", "width", "counts"),
    [
        ({100: 5}, 60, 1, [5]),
        ({100: 1, 102: 3}, 60, 1, [1, 0, 3]),
        ({0: 1, 9: 1}, 5, 2, [1, 0, 0, 0, 1]),
        ({0: 2, 1: 2, 2: 2}, 2, 2, [4, 2]),
    ],
)
def test_timeline_bins(
    minutes: dict[int, int], max_bins: int, width: int, counts: list[int]
) -> None:
    line = timeline(minutes, max_bins=max_bins)
    assert line is not None
    assert (line.width, line.counts) == (width, counts)
    assert line.start == min(minutes)


def test_timeline_of_days_fits_and_keeps_every_record() -> None:
    minutes = {m: 1 for m in range(0, 3 * 24 * 60, 7)}
    line = timeline(minutes, max_bins=60)
    assert line is not None
    assert len(line.counts) <= 60
    assert sum(line.counts) == len(minutes)
    assert line.end > max(minutes)


def test_no_timeline_without_times() -> None:
    assert timeline({}) is None


def test_sparkline_marks_peak_and_gaps() -> None:
    line = timeline({0: 1, 1: 0, 2: 8, 4: 4})
    assert line is not None
    spark = sparkline(line)
    assert len(spark) == 5
    assert spark[2] == "█" and spark[1] == " " and spark[3] == " "
    assert spark[0] < spark[4] < spark[2]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain [bold] text", "plain [bold] text"),
        ("a\x1b[31mred", "a␛[31mred"),
        ("title\x1b]0;owned\x07", "title␛]0;owned␇"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("crlf\r\nnext", "crlf\nnext"),
        ("del\x7f c1\x9b", "del␡ c1\\x9b"),
    ],
)
def test_printable_defuses_control_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, "unknown"),
        (datetime(2024, 5, 1, 12, 3, 4), "2024-05-01 12:03:04"),
        (datetime(2024, 5, 1, 12, 3, 4, 999, tzinfo=UTC), "2024-05-01 12:03:04 UTC"),
        (
            datetime(2024, 5, 1, 12, 3, 4, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2024-05-01 12:03:04 +05:30",
        ),
    ],
)
def test_when(moment: datetime | None, text: str) -> None:
    assert when(moment) == text


def test_evidence_prefers_the_diagnosis_then_the_lines() -> None:
    db = database_incident()
    assert [r.line_no for r in evidence_of(db, 3)] == [120, 121, 122]
    assert evidence_of(network_incident())[0].source == "logs/nginx-error.log"
    db.diagnosis.evidence = []  # type: ignore[union-attr]
    assert len(evidence_of(db)) == len(db.lines)


@pytest.mark.parametrize(("raw", "clamped"), [(0.86, 0.86), (1.7, 1.0), (-1, 0.0)])
def test_confidence_is_clamped(raw: float, clamped: float) -> None:
    incident = database_incident()
    incident.diagnosis.confidence = raw  # type: ignore[union-attr]
    assert confidence_of(incident) == clamped
    assert confidence_of(network_incident()) == 0.0


def test_headline_names_few_sources_only() -> None:
    many = {
        "totals": {"lines": 10, "sources": 4},
        "sources": [{"source": f"s{i}.log"} for i in range(4)],
    }
    assert headline(AnalysisResult([], many)) == "No incidents · 10 lines read from 4 sources"
    few = {**many, "sources": many["sources"][:3]}
    assert headline(AnalysisResult([], few)).endswith("· s0.log, s1.log, s2.log")
