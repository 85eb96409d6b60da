"""Telling the targets that an incident someone resolved is over.

Why: a target that was paged about an incident (Alertmanager holds the alert firing until
its ``endsAt``; a chat channel shows it as open) should hear when a person marks it fixed, with
what fixed it, not only when the hold runs out. ``aiops incidents resolve``, the dashboard's
resolve button and ``POST /v1/incidents/{id}/resolve`` start from what the store kept of the
incident: the report of its newest sighting (the ``analyze --format json`` element), which
:func:`resolved_incident` turns back into an :class:`Incident`, so every target renders it
exactly as it rendered the page.

Only the targets that were told about the incident hear of it (the notifier's
de-duplication state says which); with no notify targets configured nothing happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiops_copilot.models import Incident, IncidentHistory, IncidentStatus
from aiops_copilot.notify.notifier import Notifier, warn_stderr

if TYPE_CHECKING:
    from aiops_copilot.config import Settings
    from aiops_copilot.store.sql import IncidentSummary

__all__ = ["ResolvedNotice", "notify_resolved", "resolved_incident"]


@dataclass(frozen=True, slots=True)
class ResolvedNotice:
    """What :func:`notify_resolved` did: how many targets were told, and its one line."""

    told: int
    message: str | None


def resolved_incident(summary: IncidentSummary, report: Mapping[str, Any] | None) -> Incident | str:
    """The incident as its newest report described it, now resolved with the store's note;
    or, when that cannot be had, why (one line)."""
    if report is None:
        return "no stored report of it: no notification sent"
    from aiops_copilot.report.incident_load import incident_from_dict

    try:
        incident = incident_from_dict(report)
    except ValueError as exc:
        return f"its stored report is unreadable ({exc}): not notified"
    incident.history = IncidentHistory(
        times_seen=summary.times_seen,
        first_seen_at=summary.first_seen_at,
        last_seen_at=summary.last_seen_at,
        status=IncidentStatus.RESOLVED,
        last_resolved_at=summary.resolved_at or datetime.now(UTC),
        last_resolution_note=summary.resolution_note,
    )
    return incident


def notify_resolved(
    settings: Settings,
    summary: IncidentSummary,
    report: Mapping[str, Any] | None,
    *,
    warn: Callable[[str], None] = warn_stderr,
) -> ResolvedNotice:
    """For a one-shot command: send ``resolved`` to the targets that were told about the
    incident and wait (bounded) for delivery. Never raises for a delivery problem: failures
    are warnings, as for every notification."""
    with Notifier.from_settings(settings, warn=warn) as notifier:
        if not notifier.configured:
            return ResolvedNotice(0, None)
        incident = resolved_incident(summary, report)
        if isinstance(incident, str):
            return ResolvedNotice(0, incident)
        if not notifier.resolve(incident):
            return ResolvedNotice(0, None)  # no target had been told about it
    delivered = sum(stats.sent for stats in notifier.stats.values())
    if not delivered:  # each failure was already a warning
        return ResolvedNotice(0, "the resolve notification was not delivered")
    return ResolvedNotice(delivered, f"told {delivered} notify target(s) it is resolved")
