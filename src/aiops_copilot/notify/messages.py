"""The words every message kind shares, derived once so Slack, the JSON webhook and
Alertmanager describe an incident the same way (the report renderers follow the same rule via
``report/view.py``, which this builds on)."""

from __future__ import annotations

from collections.abc import Sequence

from aiops_copilot.models import Incident
from aiops_copilot.notify.events import CHANGE_WORDS, Event, utc_now
from aiops_copilot.report.view import domain_of, evidence_of, plural, title_of, when

PRODUCT = "aiops-copilot"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut (receivers reject long fields)."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def headline(event: Event) -> str:
    """``[HIGH] New incident: PostgreSQL: no free connection slots``."""
    incident = event.incident
    word = CHANGE_WORDS.get(event.change, event.change.capitalize())
    return f"[{incident.severity.value.upper()}] {word}: {title_of(incident)}"


def resolution(event: Event) -> str | None:
    """What fixed it, for a ``resolved`` message (the note given when it was resolved)."""
    history = event.incident.history
    if event.change != "resolved" or history is None:
        return None
    return history.last_resolution_note or None


def root_cause(incident: Incident) -> str | None:
    diagnosis = incident.diagnosis
    return diagnosis.root_cause if diagnosis is not None and diagnosis.root_cause else None


def remediation(incident: Incident, limit: int = 3) -> list[str]:
    diagnosis = incident.diagnosis
    return list(diagnosis.remediation[:limit]) if diagnosis is not None else []


def domain(incident: Incident) -> str:
    return domain_of(incident) or "unclassified"


def span(incident: Incident) -> str:
    """``2026-11-20 11:09:02 UTC → 2026-11-20 11:21:40 UTC`` (one time when they agree)."""
    first, last = when(incident.first_seen), when(incident.last_seen)
    return first if first == last else f"{first} → {last}"


def facts(incident: Incident) -> list[tuple[str, str]]:
    """(label, value) pairs for a message's fact table; empty values left out."""
    pairs = [
        ("Severity", incident.severity.value),
        ("Domain", domain(incident)),
        ("Service", ", ".join(incident.services[:3])),
        ("Host", ", ".join(incident.hosts[:3])),
        ("Lines", plural(incident.count, "line")),
        ("When", span(incident)),
    ]
    return [(label, value) for label, value in pairs if value]


def evidence(incident: Incident, limit: int = 3, width: int = 300) -> list[str]:
    return [
        clip(ref.text.splitlines()[0] if ref.text else "", width)
        for ref in evidence_of(incident, limit)
    ]


def brief(event: Event) -> str:
    """One line for a summary: ``INC-1a2b [high] new: title``."""
    incident = event.incident
    return f"{incident.id} [{incident.severity.value}] {event.change}: {title_of(incident)}"


def summary_headline(events: Sequence[Event], more: int) -> str:
    total = len(events) + more
    return f"{plural(total, 'more incident')} not sent one by one (notification rate limit)"


def utc_iso() -> str:
    return utc_now().isoformat()
