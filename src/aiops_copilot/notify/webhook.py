"""The generic JSON webhook: the documented incident contract in a small envelope.

``incident`` is exactly one element of ``incidents`` in ``aiops analyze --format json``
(``report/incidents_json.py``, documented in ``docs/json-output.md``), so a consumer parses a
notification with the code it already has for reports. The envelope says what happened
(``change``) and when; ``event`` tells an incident from a rate-limit summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiops_copilot.notify import messages
from aiops_copilot.notify.events import Event
from aiops_copilot.report.incidents_json import SCHEMA_VERSION, incident_to_dict
from aiops_copilot.report.view import title_of

SUMMARY_ITEMS = 100


def _envelope(kind: str, event_time: str) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "event": kind,
        "sent_at": event_time,
        "source": messages.PRODUCT,
    }


def incident_payload(event: Event, hold: timedelta) -> dict[str, Any]:
    """``{"version", "event": "incident", "change", "sent_at", "source", "incident"}``."""
    del hold
    body = _envelope("incident", event.at.isoformat())
    body["change"] = event.change
    body["incident"] = incident_to_dict(event.incident)
    return body


def summary_payload(events: Sequence[Event], more: int, hold: timedelta) -> dict[str, Any]:
    """``{"event": "suppressed", "count", "incidents": [{id, fingerprint, ...}]}``."""
    del hold
    sent_at = events[-1].at.isoformat() if events else messages.utc_iso()
    body = _envelope("suppressed", sent_at)
    body["count"] = len(events) + more
    body["text"] = messages.summary_headline(events, more)
    body["incidents"] = [
        {
            "id": event.incident.id,
            "fingerprint": event.incident.fingerprint,
            "severity": event.incident.severity.value,
            "title": title_of(event.incident),
            "change": event.change,
        }
        for event in events[:SUMMARY_ITEMS]
    ]
    return body
