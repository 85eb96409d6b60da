"""The JSON contract: every documented field, the right types, plain JSON, stable meaning."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_samples import (
    HOSTILE_LINE,
    PG_LINE,
    SAMPLES,
    bare_incident,
    database_incident,
    full_result,
    hostile_result,
    network_incident,
)

from aiops_copilot.models import AnalysisResult, Diagnosis, Severity
from aiops_copilot.report.incidents_json import (
    EVIDENCE_LIMIT,
    SCHEMA_VERSION,
    jsonable,
    render_json,
    to_dict,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "json-output.md"

STR, NUM, INT, LIST, DICT, NONE = str, (int, float), int, list, dict, type(None)

#: field -> accepted JSON types, for every incident the contract describes.
INCIDENT_SCHEMA: dict[str, tuple[type, ...] | type] = {
    "id": STR,
    "domain": (STR, NONE),
    "severity": STR,
    "title": STR,
    "root_cause": (STR, NONE),
    "remediation": LIST,
    "evidence": LIST,
    "confidence": NUM,
    "agent": (STR, NONE),
    "hypotheses": LIST,
    "signals": LIST,
    "count": INT,
    "first_seen": (STR, NONE),
    "last_seen": (STR, NONE),
    "services": LIST,
    "sources": LIST,
    "score": NUM,
    "hosts": LIST,
    "formats": LIST,
    "commands": LIST,
    "references": LIST,
    "fingerprint": STR,
    "template_ids": LIST,
    "templates": LIST,
    "lines": LIST,
    "evidence_lines": LIST,
    "classification": (DICT, NONE),
    "grouped_because": LIST,
    "caused_by": (STR, NONE),
    "symptoms": LIST,
    "facts": DICT,
    "entities": DICT,
    "entry_ids": LIST,
    "second_opinion": (STR, NONE),
    "timeline": LIST,
    "history": (DICT, NONE),
    "runbooks": LIST,
    "similar": LIST,
    "llm": (DICT, NONE),
}
SIGNAL_KEYS = {
    "kind",
    "score",
    "reason",
    "template_id",
    "entry_id",
    "count",
    "severity",
    "first_seen",
    "last_seen",
}
HYPOTHESIS_KEYS = {"cause", "status", "because", "score", "checks"}
LINE_KEYS = {"source", "line_no", "end_line", "text", "timestamp"}
DOMAINS = {"database", "network", "application", "security", "infrastructure", "integration"}


def _all_incidents() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for make in SAMPLES.values():
        out += to_dict(make())["incidents"]
    return out


def test_top_level_shape_and_version() -> None:
    data = to_dict(full_result())
    assert data["version"] == SCHEMA_VERSION == 1
    assert set(data) >= {"version", "incidents", "summary", "observations"}
    assert [i["id"] for i in data["incidents"]] == ["inc-db-1", "inc-net-2", "inc-3"]
    assert data["observations"][0]["kind"] == "novelty"


@pytest.mark.parametrize("name", list(SAMPLES))
def test_plain_json_round_trip(name: str) -> None:
    data = to_dict(SAMPLES[name]())
    text = json.dumps(data, allow_nan=False)  # no default=: everything is already plain
    assert json.loads(text) == data


@pytest.mark.parametrize("field", list(INCIDENT_SCHEMA))
def test_every_incident_field_present_with_its_type(field: str) -> None:
    for incident in _all_incidents():
        assert field in incident
        assert isinstance(incident[field], INCIDENT_SCHEMA[field]), (field, incident[field])


def test_enumerations_and_ranges() -> None:
    for incident in _all_incidents():
        assert incident["severity"] in {s.value for s in Severity}
        assert incident["domain"] is None or incident["domain"] in DOMAINS
        assert 0.0 <= incident["confidence"] <= 1.0
        for signal in incident["signals"]:
            assert set(signal) == SIGNAL_KEYS
            assert signal["kind"] in {"severity", "signature", "novelty", "burst", "session"}
        for hyp in incident["hypotheses"]:
            assert set(hyp) == HYPOTHESIS_KEYS
            assert hyp["status"] in {"supported", "possible", "ruled_out"}
        for line in incident["lines"] + incident["evidence_lines"]:
            assert set(line) == LINE_KEYS
            assert line["end_line"] >= line["line_no"] >= 1
        for text in incident["evidence"] + incident["remediation"] + incident["services"]:
            assert isinstance(text, str)


def test_times_are_iso_8601() -> None:
    incident = to_dict(full_result())["incidents"][0]
    assert datetime.fromisoformat(incident["first_seen"]) == datetime(
        2026, 11, 23, 23, 24, 1, tzinfo=UTC
    )
    assert datetime.fromisoformat(incident["last_seen"]).tzinfo is not None
    minutes = [datetime.fromisoformat(p["minute"]) for p in incident["timeline"]]
    assert minutes == sorted(minutes)
    assert sum(p["count"] for p in incident["timeline"]) == 412


def test_diagnosed_incident_carries_the_diagnosis() -> None:
    data = to_dict(AnalysisResult([database_incident()], {}))["incidents"][0]
    assert data["domain"] == "database"
    assert data["agent"] == "database"
    assert data["title"] == "PostgreSQL ran out of connection slots"
    assert "max_connections" in data["root_cause"]
    assert data["remediation"][0] == "Roll back 1.4.3"
    assert data["confidence"] == 0.86
    assert [h["status"] for h in data["hypotheses"]][:3] == ["supported", "possible", "ruled_out"]
    assert data["evidence"] == [PG_LINE] * EVIDENCE_LIMIT  # capped; all lines under "lines"
    assert len(data["lines"]) == 12
    assert data["evidence_lines"][0]["line_no"] == 120
    assert data["symptoms"] == ["inc-net-2"]
    assert data["entry_ids"] == ["postgresql-too-many-clients", "postgresql-connection-leak"]
    assert data["classification"]["top"] == "database"
    assert list(data["classification"]["scores"])[:2] == ["database", "network"]
    assert data["facts"]["seen_at"].startswith("2026-11-23T23:24:01")
    assert data["facts"]["users"] == ["shop"]
    assert data["facts"]["colour"] == "red"
    assert data["facts"]["ratio"] is None  # NaN is not JSON
    assert data["facts"]["path"] == "/var/lib/postgresql"


def test_undiagnosed_incident_reports_classifier_domain_and_signals() -> None:
    data = to_dict(AnalysisResult([network_incident()], {}))["incidents"][0]
    assert data["domain"] == "network"
    assert data["agent"] is None and data["root_cause"] is None
    assert data["confidence"] == 0.0
    assert data["remediation"] == [] and data["hypotheses"] == []
    assert data["signals"][0]["reason"] == "level ERROR"
    assert data["evidence"][0].startswith("2026/11/23 23:24:02 [error]")
    assert data["caused_by"] == "inc-db-1"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [("database", "database"), ("security-fixer", "security"), ("llm", None)],
)
def test_domain_falls_back_to_the_agent_without_classification(
    agent: str, expected: str | None
) -> None:
    incident = bare_incident()
    incident.diagnosis = Diagnosis(agent=agent, title="t", root_cause="r", confidence=0.5)
    assert to_dict(AnalysisResult([incident], {}))["incidents"][0]["domain"] == expected


def test_bare_incident_has_nulls_not_gaps() -> None:
    data = to_dict(AnalysisResult([bare_incident()], {}))["incidents"][0]
    assert data["domain"] is None
    assert data["classification"] is None
    assert data["first_seen"] is None and data["last_seen"] is None
    assert data["timeline"] == []
    assert data["evidence"] == ["something odd happened"]


def test_hostile_text_is_kept_verbatim_and_confidence_clamped() -> None:
    data = json.loads(render_json(hostile_result()))
    incident = data["incidents"][0]
    assert incident["evidence"][0] == HOSTILE_LINE  # JSON is data: no escaping beyond JSON's
    assert incident["confidence"] == 1.0
    assert incident["facts"] == {"(1, 2)": "tuple key"}


def test_render_json_keeps_unicode_readable() -> None:
    text = render_json(hostile_result())
    assert "ünïcødé 日本" in text
    assert "\\u001b" in text  # control characters are JSON-escaped, never raw
    assert "\x1b" not in text
    assert render_json(hostile_result(), indent=None).count("\n") == 0


def test_empty_result() -> None:
    data = to_dict(AnalysisResult([], {}))
    assert data == {"version": 1, "incidents": [], "summary": {}, "observations": []}


class _Kind(enum.IntEnum):
    ONE = 1


@dataclasses.dataclass
class _Point:
    x: int
    when: date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "2024-05-01T12:00:00+00:00"),
        (date(2024, 5, 1), "2024-05-01"),
        (timedelta(seconds=90), 90.0),
        (Severity.HIGH, "high"),
        (_Kind.ONE, 1),
        (float("inf"), None),
        (math.pi, math.pi),
        ({3, 1, 2}, [1, 2, 3]),
        ((1, "a"), [1, "a"]),
        ({Severity.LOW: 1, 2: "x"}, {"low": 1, "2": "x"}),
        (_Point(1, date(2024, 1, 2)), {"x": 1, "when": "2024-01-02"}),
        (Path("/tmp/x"), "/tmp/x"),
        (object, str(object)),
        (None, None),
        (True, True),
    ],
)
def test_jsonable(value: Any, expected: Any) -> None:
    assert jsonable(value) == expected


def test_docs_describe_every_field() -> None:
    """docs/json-output.md is the contract: a field it does not name must not ship."""
    docs = DOCS.read_text(encoding="utf-8")
    data = to_dict(full_result())
    names = set(data) | set(INCIDENT_SCHEMA) | SIGNAL_KEYS | HYPOTHESIS_KEYS | LINE_KEYS
    names |= set(data["incidents"][0]["classification"]) | {"minute"}
    names |= set(data["summary"])
    missing = sorted(n for n in names if f"`{n}`" not in docs)
    assert not missing, f"undocumented JSON fields: {missing}"
    assert set(data["incidents"][0]) == set(INCIDENT_SCHEMA)
