"""Alerts for Alertmanager's API v2 (``POST /api/v2/alerts``, a JSON list of alerts).

Alertmanager identifies an alert by its label set, so labels hold only what is stable for an
incident: ``alertname`` (from the knowledge-base signature, else the domain), ``severity``,
``domain``, ``service`` and our ``fingerprint``. Everything that changes from one sighting to the
next (counts, times, evidence) goes in annotations. Alertmanager resolves an alert by itself
when ``endsAt`` passes, so a firing alert is held for the de-duplication TTL (the time within
which it is not re-sent), and a resolved incident is sent with ``endsAt`` = now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from aiops_copilot.models import Incident
from aiops_copilot.notify import messages
from aiops_copilot.notify.events import Event
from aiops_copilot.report.view import entry_ids_of, title_of

SUMMARY_ALERTS = 50
#: A test alert resolves itself soon: nobody should be paged twice by ``aiops notify test``.
TEST_HOLD = timedelta(minutes=5)
ANNOTATION_LIMIT = 4000


def alertname(incident: Incident) -> str:
    """``PostgresqlTooManyClients`` from the entry id ``postgresql-too-many-clients``; without
    a signature ``AiopsDatabaseIncident``: stable, and what routing rules match on."""
    ids = entry_ids_of(incident)
    if ids:
        words = [w for w in re.split(r"[^A-Za-z0-9]+", ids[0]) if w]
        name = "".join(w[:1].upper() + w[1:] for w in words)
        if name and not name[0].isdigit():
            return name
    return f"Aiops{messages.domain(incident).capitalize()}Incident"


def labels_of(incident: Incident, change: str) -> dict[str, str]:
    found = {
        "alertname": alertname(incident),
        "severity": incident.severity.value,
        "domain": messages.domain(incident),
        "service": incident.services[0] if incident.services else "",
        "fingerprint": incident.fingerprint,
    }
    if change == "test":
        found["alertname"] = "AiopsTestNotification"
        found["test"] = "true"
    # An empty label is the same as no label to Alertmanager; leave it out.
    return {key: value for key, value in found.items() if value}


def annotations_of(incident: Incident) -> dict[str, str]:
    lines = []
    cause = messages.root_cause(incident)
    if cause:
        lines.append(f"Root cause: {cause}")
    lines.append(" · ".join(f"{label}: {value}" for label, value in messages.facts(incident)))
    evidence = messages.evidence(incident, limit=2)
    if evidence:
        lines.append("Evidence: " + " | ".join(evidence))
    found = {
        "summary": title_of(incident),
        "description": "\n".join(lines),
        "runbook": "\n".join(
            f"{n}. {step}" for n, step in enumerate(messages.remediation(incident, 5), start=1)
        ),
        "incident_id": incident.id,
    }
    references = incident.diagnosis.references if incident.diagnosis is not None else []
    links = [r for r in references if r.startswith(("https://", "http://"))]
    if links:
        found["runbook_url"] = links[0]
    return {key: messages.clip(value, ANNOTATION_LIMIT) for key, value in found.items() if value}


def alert(event: Event, hold: timedelta) -> dict[str, Any]:
    """One alert; ``startsAt`` is when the logs first showed it (never after now; a time
    without a zone is read as UTC)."""
    incident = event.incident
    starts = incident.first_seen if incident.first_seen is not None else event.at
    if starts.tzinfo is None:  # a log without a zone: read as UTC, like the reports' charts
        starts = starts.replace(tzinfo=UTC)
    starts = min(starts, event.at)
    if event.change == "resolved":
        ends = event.at
    else:
        ends = event.at + (TEST_HOLD if event.change == "test" else hold)
    annotations = annotations_of(incident)
    fixed = messages.resolution(event)
    if fixed:
        annotations["resolution"] = messages.clip(fixed, ANNOTATION_LIMIT)
    return {
        "labels": labels_of(incident, event.change),
        "annotations": annotations,
        "startsAt": starts.isoformat(),
        "endsAt": ends.isoformat(),
    }


def incident_payload(event: Event, hold: timedelta) -> list[dict[str, Any]]:
    return [alert(event, hold)]


def summary_payload(events: Sequence[Event], more: int, hold: timedelta) -> list[dict[str, Any]]:
    """Alertmanager takes many alerts in one request: the held-back incidents go as alerts
    themselves (the first ``SUMMARY_ALERTS``), not as a text about them."""
    del more
    return [alert(event, hold) for event in events[:SUMMARY_ALERTS]]
