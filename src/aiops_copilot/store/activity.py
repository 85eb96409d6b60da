"""What the store has seen over time: the runs (ingest) and every incident occurrence.

Read by ``Store.runs`` and ``Store.occurrence_points`` for overviews (the dashboard's charts
of incidents by domain and severity over time, and of records ingested per run). Plain
records out, one query each; the occurrences' JSON columns are never loaded, so a chart over
thousands of occurrences stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiops_copilot.store.schema import IncidentRow, Occurrence, Run


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One stored analysis: when, what it read, what it found."""

    id: int
    started_at: datetime
    stored_at: datetime
    command: str
    lines: int
    records: int
    templates: int
    incidents: int
    #: Per source: source, format, lines, records, bytes.
    sources: list[dict[str, Any]]
    #: Incidents per severity.
    severities: dict[str, int]


@dataclass(frozen=True, slots=True)
class OccurrencePoint:
    """One incident as one run found it, without its documents."""

    run_id: int
    incident_id: str
    seen_at: datetime
    log_first_seen: datetime | None
    log_last_seen: datetime | None
    domain: str | None
    severity: str
    count: int
    #: The same lines as an earlier sighting (not a recurrence).
    same_logs: bool
    #: The incident's status now.
    status: str


def runs(
    session: Session, *, since: datetime | None = None, limit: int | None = None
) -> list[RunSummary]:
    """Stored runs, newest first."""
    query = select(Run).order_by(Run.started_at.desc(), Run.id.desc())
    if since is not None:
        query = query.where(Run.started_at >= since)
    if limit:
        query = query.limit(limit)
    return [
        RunSummary(
            id=row.id,
            started_at=row.started_at,
            stored_at=row.stored_at,
            command=row.command,
            lines=row.lines,
            records=row.records,
            templates=row.templates,
            incidents=row.incidents,
            sources=list(row.sources or []),
            severities=dict(row.severities or {}),
        )
        for row in session.scalars(query)
    ]


def occurrence_points(
    session: Session, *, since: datetime | None = None, limit: int | None = None
) -> list[OccurrencePoint]:
    """Every occurrence (newest first) with its incident's current status."""
    query = (
        select(
            Occurrence.run_id,
            Occurrence.incident_id,
            Occurrence.seen_at,
            Occurrence.log_first_seen,
            Occurrence.log_last_seen,
            Occurrence.domain,
            Occurrence.severity,
            Occurrence.count,
            Occurrence.same_logs,
            IncidentRow.status,
        )
        .join(IncidentRow, IncidentRow.id == Occurrence.incident_id)
        .order_by(Occurrence.seen_at.desc(), Occurrence.id.desc())
    )
    if since is not None:
        query = query.where(Occurrence.seen_at >= since)
    if limit:
        query = query.limit(limit)
    return [OccurrencePoint(**row._asdict()) for row in session.execute(query)]
