"""An incident as the store keeps it: the JSON contract, split by what reads each part.

The contract (``report/incidents_json.py``) already names every field a later reader needs,
so the store keeps exactly that, in four documents plus the rest, and can give it back in the
same shape (``aiops incidents show --format json`` prints what ``analyze --format json``
printed that day).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiops_copilot.models import Incident
from aiops_copilot.report.incidents_json import incident_to_dict

#: Contract keys that come from the fixer's diagnosis (``None`` when nothing diagnosed it).
DIAGNOSIS_KEYS = (
    "agent",
    "root_cause",
    "remediation",
    "confidence",
    "hypotheses",
    "commands",
    "references",
    "facts",
    "second_opinion",
)
#: Keys kept in their own columns, or derived again on the way out.
_OWN_COLUMNS = ("signals", "evidence_lines", "classification", "evidence", "history")
#: What an undiagnosed incident shows for the diagnosis keys.
_NO_DIAGNOSIS: dict[str, Any] = {
    "agent": None,
    "root_cause": None,
    "remediation": [],
    "confidence": 0.0,
    "hypotheses": [],
    "commands": [],
    "references": [],
    "facts": {},
    "second_opinion": None,
}


def split(incident: Incident) -> dict[str, Any]:
    """The occurrence's JSON columns: diagnosis, signals, evidence, classification, details."""
    data = incident_to_dict(incident)
    diagnosis = (
        {key: data[key] for key in DIAGNOSIS_KEYS} if incident.diagnosis is not None else None
    )
    details = {
        key: value
        for key, value in data.items()
        if key not in _OWN_COLUMNS and key not in DIAGNOSIS_KEYS
    }
    return {
        "diagnosis": diagnosis,
        "signals": data["signals"],
        "evidence": data["evidence_lines"],
        "classification": data["classification"],
        "details": details,
    }


def join(
    *,
    diagnosis: Mapping[str, Any] | None,
    signals: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    classification: Mapping[str, Any] | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The columns back in the contract's shape (``history`` left out: it is the store's)."""
    data: dict[str, Any] = dict(details)
    data.update(diagnosis if diagnosis is not None else _NO_DIAGNOSIS)
    data["signals"] = list(signals)
    data["evidence_lines"] = list(evidence)
    data["evidence"] = [str(line.get("text", "")) for line in evidence]
    data["classification"] = dict(classification) if classification is not None else None
    return data
