"""The JSON contract of ``aiops analyze --format json`` (documented in ``docs/json-output.md``).

Scripts, CI jobs and dashboards parse this, so it is built field by field here rather than by
dumping the dataclasses: renaming a Python attribute must not silently rename a JSON key.
``version`` changes only when a field is removed or changes meaning; new fields may appear in
any release and consumers should ignore keys they do not know.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any

from aiops_copilot.llm.provenance import provenance_dict
from aiops_copilot.models import (
    AnalysisResult,
    Classification,
    Hypothesis,
    Incident,
    IncidentHistory,
    LineRef,
    RunbookPassage,
    Signal,
    SimilarIncident,
    TemplateRef,
)
from aiops_copilot.report.view import (
    confidence_of,
    domain_of,
    entry_ids_of,
    evidence_of,
    history_line,
    iso,
    title_of,
)

SCHEMA_VERSION = 1

#: How many key raw lines ``evidence`` carries; every cited line is still in ``lines``.
EVIDENCE_LIMIT = 10


def to_dict(result: AnalysisResult) -> dict[str, Any]:
    """The whole result as plain JSON types (``json.dumps`` needs no ``default``)."""
    return {
        "version": SCHEMA_VERSION,
        "incidents": [incident_to_dict(incident) for incident in result.incidents],
        "summary": jsonable(result.summary),
        "observations": [signal_to_dict(signal) for signal in result.observations],
    }


def render_json(result: AnalysisResult, *, indent: int | None = 2) -> str:
    """The contract as text; non-ASCII stays readable (log lines are often UTF-8)."""
    return json.dumps(to_dict(result), indent=indent, ensure_ascii=False, allow_nan=False)


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    diagnosis = incident.diagnosis
    return {
        "id": incident.id,
        "domain": domain_of(incident),
        "severity": incident.severity.value,
        "title": title_of(incident),
        "root_cause": diagnosis.root_cause if diagnosis else None,
        "remediation": list(diagnosis.remediation) if diagnosis else [],
        "evidence": [ref.text for ref in evidence_of(incident, EVIDENCE_LIMIT)],
        "confidence": round(confidence_of(incident), 4),
        "agent": diagnosis.agent if diagnosis else None,
        "hypotheses": [hypothesis_to_dict(h) for h in diagnosis.hypotheses] if diagnosis else [],
        "signals": [signal_to_dict(signal) for signal in incident.signals],
        "count": incident.count,
        "first_seen": iso(incident.first_seen),
        "last_seen": iso(incident.last_seen),
        "services": list(incident.services),
        "sources": list(incident.sources),
        # Extras: everything a deeper tool (ticket, dashboard, history) needs.
        "score": _round(incident.score),
        "hosts": list(incident.hosts),
        "formats": list(incident.formats),
        "commands": list(diagnosis.commands) if diagnosis else [],
        "references": list(diagnosis.references) if diagnosis else [],
        "fingerprint": incident.fingerprint,
        "template_ids": incident.template_ids,
        "templates": [template_to_dict(t) for t in incident.templates],
        "lines": [line_to_dict(ref) for ref in incident.lines],
        "evidence_lines": [line_to_dict(ref) for ref in evidence_of(incident, EVIDENCE_LIMIT)],
        "classification": classification_to_dict(incident.classification),
        "grouped_because": list(incident.grouped_because),
        "caused_by": incident.caused_by,
        "symptoms": list(incident.symptoms),
        "facts": jsonable(diagnosis.facts) if diagnosis else {},
        "entities": jsonable(incident.entities),
        "entry_ids": entry_ids_of(incident),
        "second_opinion": diagnosis.second_opinion if diagnosis else None,
        "timeline": [
            {"minute": _minute_iso(minute), "count": count}
            for minute, count in sorted(incident.minutes.items())
        ],
        "history": history_to_dict(incident.history),
        "runbooks": [runbook_to_dict(p) for p in diagnosis.runbooks] if diagnosis else [],
        "similar": [similar_to_dict(s) for s in diagnosis.similar] if diagnosis else [],
        "llm": provenance_dict(diagnosis.llm) if diagnosis else None,
    }


def history_to_dict(history: IncidentHistory | None) -> dict[str, Any] | None:
    """The store's memory of the fingerprint; ``None`` when first seen (or nothing stored)."""
    if history is None:
        return None
    return {
        "times_seen": history.times_seen,
        "first_seen_at": iso(history.first_seen_at),
        "last_seen_at": iso(history.last_seen_at),
        "status": history.status.value,
        "last_resolved_at": iso(history.last_resolved_at),
        "last_resolution_note": history.last_resolution_note,
        "same_logs": history.same_logs,
        "text": history_line(history),
    }


def runbook_to_dict(passage: RunbookPassage) -> dict[str, Any]:
    return {
        "title": passage.title,
        "text": passage.text,
        "source": passage.source,
        "line": passage.line,
        "entry_id": passage.entry_id,
        "score": _round(passage.score),
    }


def similar_to_dict(similar: SimilarIncident) -> dict[str, Any]:
    return {
        "fingerprint": similar.fingerprint,
        "title": similar.title,
        "score": _round(similar.score),
        "domain": similar.domain,
        "root_cause": similar.root_cause,
        "resolution": similar.resolution,
        "last_seen": iso(similar.last_seen),
        "times_seen": similar.times_seen,
    }


def hypothesis_to_dict(hypothesis: Hypothesis) -> dict[str, Any]:
    return {
        "cause": hypothesis.cause,
        "status": hypothesis.status.value,
        "because": hypothesis.because,
        "score": _round(hypothesis.score),
        "checks": list(hypothesis.checks),
    }


def signal_to_dict(signal: Signal) -> dict[str, Any]:
    return {
        "kind": signal.kind.value,
        "score": _round(signal.score),
        "reason": signal.reason,
        "template_id": signal.template_id,
        "entry_id": signal.entry_id,
        "count": signal.count,
        "severity": signal.severity.value,
        "first_seen": iso(signal.first_seen),
        "last_seen": iso(signal.last_seen),
    }


def template_to_dict(template: TemplateRef) -> dict[str, Any]:
    return {
        "template_id": template.template_id,
        "template": template.template,
        "count": template.count,
        "example": template.example,
    }


def line_to_dict(ref: LineRef) -> dict[str, Any]:
    return {
        "source": ref.source,
        "line_no": ref.line_no,
        "end_line": max(ref.end_line, ref.line_no),
        "text": ref.text,
        "timestamp": iso(ref.timestamp),
    }


def classification_to_dict(classification: Classification | None) -> dict[str, Any] | None:
    if classification is None:
        return None
    return {
        "top": classification.top.value if classification.scores else None,
        "scores": {d.value: _round(s) for d, s in classification.ranked},
        "reasons": {d.value: list(r) for d, r in classification.reasons.items()},
    }


def jsonable(value: Any) -> Any:
    """Any value the pipeline may leave in a summary or facts, as plain JSON types.

    Datetimes become ISO 8601, enums their value, sets sorted lists, dataclasses objects,
    non-finite floats ``null`` (``NaN`` is not JSON), anything else its ``str``.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, Enum):
        return str(key.value)
    if isinstance(key, (datetime, date)):
        return key.isoformat()
    return str(key)


def _round(value: float) -> float:
    return round(float(value), 4) if math.isfinite(value) else 0.0


def _minute_iso(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, tz=UTC).isoformat()
