"""Recording one analysis: the write path behind ``Store.record``, in one transaction.

1. Claim a row per fingerprint: new ones go in as placeholders (``ON CONFLICT DO NOTHING``),
   then every row is read back locked (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
   IMMEDIATE`` already holds the write lock). ``times_seen`` > 0 means an earlier, committed
   analysis had it.
2. Decide what this sighting is: lines overlapping an earlier occurrence's log-time window are
   the same logs read again, not a recurrence.
3. Fold the sighting into each row (count, status, latest title and severity) and compute the
   history the report will show.
4. Count every template of the run (``template_counts.py``: new templates, histograms).
5. Insert the run's occurrences, upsert the templates they cite, link the two.

A window of broker messages (``consumed``: ``aiops consume``) also writes its ledger rows
right after the run (``consumed.py``); its lines are new by construction (the ledger keeps a
message from being counted twice), so steps 2 and 4 never take them for the same logs read
again, even when windows of several consumers overlap in log time.

Everything is sorted by key before it is locked or upserted, so two writers take locks in the
same order and cannot deadlock each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aiops_copilot import __version__
from aiops_copilot.models import AnalysisResult, Incident, IncidentHistory, IncidentStatus
from aiops_copilot.report.view import confidence_of, domain_of, title_of
from aiops_copilot.store import consumed as ledger
from aiops_copilot.store import records, template_counts
from aiops_copilot.store.schema import IncidentRow, Occurrence, OccurrenceTemplate, Run, Template
from aiops_copilot.store.types import log_time

T = TypeVar("T")
#: Rows per ``IN (...)`` list or multi-row insert: far below both databases' parameter limits.
CHUNK = 500
#: The incidents of one fingerprint in this analysis, and the history they get.
Sighting = tuple[list[Incident], IncidentHistory | None]


@dataclass(slots=True)
class _Pending:
    """One fingerprint of the analysis being recorded."""

    incidents: list[Incident]
    first: datetime | None = None
    last: datetime | None = None
    same_logs: bool = False
    history: IncidentHistory | None = None


def record(
    session: Session,
    backend: str,
    result: AnalysisResult,
    *,
    command: str,
    started_at: datetime,
    now: datetime,
    consumed: ledger.Consumption | None = None,
) -> tuple[int, list[Sighting]]:
    """Write the run and its incidents into ``session``'s transaction (the caller commits).

    Returns the run's id and, per fingerprint, its incidents with the history to attach once
    the commit succeeded (``None`` for a first sighting). With ``consumed``, the messages'
    ledger rows go in first; :class:`~aiops_copilot.store.consumed.AlreadyConsumed` when
    another consumer stored any of them (the caller's transaction must roll back).
    """
    pending: dict[str, _Pending] = {}
    for incident in result.incidents:
        entry = pending.setdefault(incident.fingerprint, _Pending([]))
        entry.incidents.append(incident)
        entry.first = _earliest(entry.first, log_time(incident.first_seen))
        entry.last = _latest(entry.last, log_time(incident.last_seen or incident.first_seen))
    run = _run_row(result, command, started_at, now)
    session.add(run)
    session.flush()
    if consumed is not None:
        ledger.claim(session, backend, consumed, run.id, now)
    rows = _claim(session, backend, pending, now)
    if consumed is None:
        _mark_same_logs(session, pending, rows)
    for fingerprint, entry in pending.items():
        entry.history = _update(rows[fingerprint], entry, now)
    template_counts.record_run(
        session, backend, run.id, result.templates, now, fresh=consumed is not None
    )
    _add_occurrences(session, backend, run.id, pending, rows, now)
    return run.id, [(entry.incidents, entry.history) for entry in pending.values()]


def _claim(
    session: Session, backend: str, pending: dict[str, _Pending], now: datetime
) -> dict[str, IncidentRow]:
    """Every fingerprint's row, created if new and locked for this transaction.

    New rows go in as placeholders (``times_seen`` 0) with ON CONFLICT DO NOTHING, so two
    writers meeting the same new fingerprint both succeed; the row then read back tells
    whether an earlier (committed) analysis had it: ``times_seen`` > 0.
    """
    fingerprints = sorted(pending)
    placeholders = []
    for fingerprint in fingerprints:
        incident = pending[fingerprint].incidents[0]
        placeholders.append(
            {
                "id": incident.id,
                "fingerprint": fingerprint,
                "domain": domain_of(incident),
                "severity": incident.severity.value,
                "title": title_of(incident),
                "status": IncidentStatus.OPEN.value,
                "first_seen_at": now,
                "last_seen_at": now,
                "times_seen": 0,
            }
        )
    for chunk in _chunks(placeholders):
        statement = _insert(backend, IncidentRow).on_conflict_do_nothing(
            index_elements=["fingerprint"]
        )
        session.execute(statement, chunk)
    rows: dict[str, IncidentRow] = {}
    for names in _chunks(fingerprints):
        query = (
            select(IncidentRow)
            .where(IncidentRow.fingerprint.in_(names))
            .order_by(IncidentRow.fingerprint)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        rows.update((row.fingerprint, row) for row in session.scalars(query))
    return rows


def _mark_same_logs(
    session: Session, pending: dict[str, _Pending], rows: dict[str, IncidentRow]
) -> None:
    """Flag fingerprints whose log window overlaps an earlier occurrence's."""
    known = {
        rows[fp].id: entry
        for fp, entry in pending.items()
        if rows[fp].times_seen > 0 and entry.first is not None and entry.last is not None
    }
    for chunk in _chunks(sorted(known)):
        query = select(
            Occurrence.incident_id, Occurrence.log_first_seen, Occurrence.log_last_seen
        ).where(
            Occurrence.incident_id.in_(chunk),
            Occurrence.log_first_seen.is_not(None),
            Occurrence.log_last_seen.is_not(None),
        )
        for incident_id, first, last in session.execute(query):
            entry = known[incident_id]
            assert entry.first is not None and entry.last is not None
            if (
                first is not None
                and last is not None
                and first <= entry.last
                and last >= entry.first
            ):
                entry.same_logs = True


def _add_occurrences(
    session: Session,
    backend: str,
    run_id: int,
    pending: dict[str, _Pending],
    rows: dict[str, IncidentRow],
    now: datetime,
) -> None:
    occurrences: list[dict[str, Any]] = []
    cited: list[tuple[int, list[tuple[str, int]]]] = []
    templates: dict[str, dict[str, Any]] = {}
    for fingerprint, entry in pending.items():
        row = rows[fingerprint]
        for incident in entry.incidents:
            diagnosis = incident.diagnosis
            occurrences.append(
                {
                    "run_id": run_id,
                    "incident_id": row.id,
                    "seen_at": now,
                    "same_logs": entry.same_logs,
                    "severity": incident.severity.value,
                    "domain": domain_of(incident),
                    "title": title_of(incident),
                    "count": incident.count,
                    "score": _finite(incident.score),
                    "agent": diagnosis.agent[:64] if diagnosis else None,
                    "confidence": confidence_of(incident),
                    "log_first_seen": incident.first_seen,
                    "log_last_seen": incident.last_seen,
                    **records.split(incident),
                }
            )
            counts: dict[str, int] = {}
            for ref in incident.templates:
                counts[ref.template_id] = counts.get(ref.template_id, 0) + ref.count
                templates.setdefault(
                    ref.template_id,
                    {
                        "id": ref.template_id,
                        "template": ref.template,
                        "example": ref.example,
                        "first_seen_at": now,
                        "last_seen_at": now,
                    },
                )
            cited.append((len(occurrences) - 1, sorted(counts.items())))
    ids: list[int] = []
    for chunk in _chunks(occurrences):
        ids += session.scalars(
            _insert(backend, Occurrence).returning(Occurrence.id, sort_by_parameter_order=True),
            chunk,
        ).all()
    for chunk in _chunks([templates[key] for key in sorted(templates)]):
        upsert = _insert(backend, Template)
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=["id"], set_={"last_seen_at": upsert.excluded.last_seen_at}
            ),
            chunk,
        )
    links = [
        {"occurrence_id": ids[index], "template_id": template_id, "count": count}
        for index, pairs in cited
        for template_id, count in pairs
    ]
    for chunk in _chunks(links):
        session.execute(_insert(backend, OccurrenceTemplate), chunk)


def _insert(backend: str, model: type[Any]) -> Any:
    return (postgresql if backend == "postgresql" else sqlite).insert(model)


def _run_row(result: AnalysisResult, command: str, started: datetime, now: datetime) -> Run:
    summary = result.summary
    raw_totals = summary.get("totals")
    totals: dict[str, Any] = raw_totals if isinstance(raw_totals, dict) else {}
    sources = []
    for source in summary.get("sources") or []:
        if isinstance(source, dict):
            sources.append(
                {key: source.get(key) for key in ("source", "format", "lines", "records", "bytes")}
            )
    severities: dict[str, int] = defaultdict(int)
    for incident in result.incidents:
        severities[incident.severity.value] += 1
    return Run(
        started_at=started,
        stored_at=now,
        command=command[:32],
        tool_version=__version__[:32],
        sources=sources,
        lines=_int(totals.get("lines")),
        records=_int(totals.get("records")),
        templates=_int(totals.get("templates")),
        incidents=len(result.incidents),
        severities=dict(severities),
    )


def _update(row: IncidentRow, entry: _Pending, now: datetime) -> IncidentHistory | None:
    """Fold this analysis into the incident's row; the history to report, if seen before."""
    incident = entry.incidents[0]
    history = None
    if row.times_seen > 0:
        status = row.status
        if not entry.same_logs and status == IncidentStatus.RESOLVED.value:
            status = IncidentStatus.RECURRED.value
        history = IncidentHistory(
            times_seen=row.times_seen + (0 if entry.same_logs else 1),
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            status=IncidentStatus(status),
            last_resolved_at=row.resolved_at,
            last_resolution_note=row.resolution_note,
            same_logs=entry.same_logs,
        )
        row.status = status
        row.times_seen = history.times_seen
    else:
        row.times_seen = 1
        row.first_seen_at = now
    row.last_seen_at = now
    row.domain = domain_of(incident)
    row.severity = incident.severity.value
    row.title = title_of(incident)
    row.log_first_seen = _earliest(row.log_first_seen, entry.first)
    row.log_last_seen = _latest(row.log_last_seen, entry.last)
    return history


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _finite(value: float) -> float:
    number = float(value)
    return number if number == number and abs(number) != float("inf") else 0.0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
