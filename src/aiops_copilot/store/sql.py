"""The store: one interface over SQLite (the default file) and PostgreSQL (by URL).

Everything the CLI needs goes through :class:`Store`; nothing outside this package sees an
ORM object or a session, only the plain records below. Each public method is one transaction,
and every database failure comes out as one :class:`StoreError` line.

Recording an analysis (:meth:`Store.record`, the write path in ``recording.py``) is the one
write that matters for durability: the run, its incidents and their occurrences are committed
together, and only after the commit returns are the incidents given their history, so
whatever the report calls a recurrence is on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, exists, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from aiops_copilot.learning import LearnedRules, RuleRecord
from aiops_copilot.models import AnalysisResult, IncidentStatus
from aiops_copilot.store import activity, feedback, recording, records, template_counts
from aiops_copilot.store import consumed as ledger
from aiops_copilot.store import miner_state as shared_miner
from aiops_copilot.store.activity import OccurrencePoint, RunSummary
from aiops_copilot.store.engine import WRITE, describe, open_engine
from aiops_copilot.store.location import StoreError, shown, sqlite_file, to_url
from aiops_copilot.store.schema import (
    ConsumedMessage,
    Feedback,
    IncidentRow,
    Occurrence,
    OccurrenceTemplate,
    Rule,
    Run,
    Template,
    TemplateCountRow,
)
from aiops_copilot.store.template_counts import TemplateSeries, TemplateSummary

TABLES: tuple[tuple[str, type[Any]], ...] = (
    ("runs", Run),
    ("incidents", IncidentRow),
    ("occurrences", Occurrence),
    ("templates", Template),
    ("template_counts", TemplateCountRow),
    ("feedback", Feedback),
    ("rules", Rule),
)


class UnknownIncident(StoreError):
    """No stored incident has that id (or the prefix fits several)."""


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What :meth:`Store.record` committed."""

    run_id: int
    incidents: int
    #: Incidents whose fingerprint an earlier analysis had stored (they carry a history).
    seen_before: int
    #: Of those, the ones that came back in new lines (not the same logs read again).
    recurring: int


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: str
    fingerprint: str
    domain: str | None
    severity: str
    title: str
    status: str
    times_seen: int
    first_seen_at: datetime
    last_seen_at: datetime
    log_first_seen: datetime | None
    log_last_seen: datetime | None
    resolved_at: datetime | None
    resolution_note: str | None


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    run_id: int
    seen_at: datetime
    same_logs: bool
    severity: str
    domain: str | None
    title: str
    count: int
    log_first_seen: datetime | None
    log_last_seen: datetime | None
    #: The incident as ``analyze --format json`` showed it then.
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedbackView:
    id: int
    kind: str
    domain: str | None
    merge_into: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    incident: IncidentSummary
    #: Newest first.
    occurrences: list[OccurrenceView]
    feedback: list[FeedbackView]


@dataclass(frozen=True, slots=True)
class StoreStats:
    location: str
    backend: str
    schema: str | None
    size_bytes: int | None
    counts: dict[str, int]
    statuses: dict[str, int]
    oldest_run: datetime | None
    newest_run: datetime | None


@dataclass(frozen=True, slots=True)
class PruneResult:
    cutoff: datetime
    runs: int
    occurrences: int
    incidents: int
    templates: int
    vacuumed: bool = False
    #: Fingerprints of the incidents deleted (vector memory forgets them too).
    fingerprints: tuple[str, ...] = ()


class Store:
    """The incident store at ``location`` (a path, a URL, or ``None`` for the default file).

    ``create=False`` refuses to make a new SQLite file: commands that only read the store
    should say "nothing stored there" rather than quietly create an empty one.
    """

    def __init__(
        self, location: str | Path | None = None, *, timeout: float = 30.0, create: bool = True
    ) -> None:
        self.url = to_url(location)
        path = sqlite_file(self.url)
        if not create and path is not None and not path.exists():
            raise StoreError(f"no store at {path} (aiops analyze creates it)")
        self.engine: Engine = open_engine(self.url, timeout=timeout)

    @property
    def location(self) -> str:
        return shown(self.url)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing an analysis -------------------------------------------------------------

    def record(
        self,
        result: AnalysisResult,
        *,
        command: str = "analyze",
        started_at: datetime | None = None,
        now: datetime | None = None,
        consumed: ledger.Consumption | None = None,
    ) -> StoredRun:
        """Store the run and its incidents in one transaction, then set each incident's
        ``history`` when an earlier analysis had stored its fingerprint.

        ``consumed``: the broker messages the run's records came from, written to the ledger
        in the same transaction; :class:`~aiops_copilot.store.consumed.AlreadyConsumed` (and
        nothing stored) when another consumer had stored any of them."""
        now = now or datetime.now(UTC)
        with self._session(write=True) as session:
            run_id, sightings = recording.record(
                session,
                self.backend,
                result,
                command=command,
                started_at=started_at or now,
                now=now,
                consumed=consumed,
            )
        # Committed: only now may the report call anything a recurrence.
        histories = []
        for incidents, history in sightings:
            for incident in incidents:
                incident.history = history
            if history is not None:
                histories.append(history)
        return StoredRun(
            run_id=run_id,
            incidents=len(result.incidents),
            seen_before=len(histories),
            recurring=sum(1 for h in histories if not h.same_logs),
        )

    # -- stream consumers ----------------------------------------------------------------

    def consumed(self, source: str, ids: list[str]) -> set[str]:
        """The ids among ``ids`` of ``source`` whose records are already stored."""
        with self._session(write=False) as session:
            return ledger.known(session, source, ids)

    @contextmanager
    def miner_state(
        self, name: str, config: dict[str, Any], *, now: datetime | None = None
    ) -> Iterator[shared_miner.LockedMinerState]:
        """A consumer group's shared miner row, locked for one write transaction (created
        with ``config`` on first use); committed when the block ends without an error."""
        with self._session(write=True) as session:
            yield shared_miner.lock(session, self.backend, name, config, now or datetime.now(UTC))

    # -- reading -------------------------------------------------------------------------

    def incidents(
        self,
        *,
        since: datetime | None = None,
        domain: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[IncidentSummary]:
        """Stored incidents, most recently seen first."""
        query = select(IncidentRow).order_by(IncidentRow.last_seen_at.desc(), IncidentRow.id)
        if since is not None:
            query = query.where(IncidentRow.last_seen_at >= since)
        if domain is not None:
            query = query.where(IncidentRow.domain == domain)
        if status is not None:
            query = query.where(IncidentRow.status == status)
        if limit:
            query = query.limit(limit)
        with self._session(write=False) as session:
            return [_summary(row) for row in session.scalars(query)]

    def incident(self, key: str) -> IncidentDetail:
        """One incident with its occurrences (newest first) and feedback; ``key`` is its id
        or an unambiguous prefix of it."""
        with self._session(write=False) as session:
            row = _find(session, key)
            occurrences = session.scalars(
                select(Occurrence)
                .where(Occurrence.incident_id == row.id)
                .order_by(Occurrence.seen_at.desc(), Occurrence.id.desc())
            ).all()
            feedback = session.scalars(
                select(Feedback)
                .where(Feedback.incident_id == row.id)
                .order_by(Feedback.created_at, Feedback.id)
            ).all()
            return IncidentDetail(
                incident=_summary(row),
                occurrences=[_occurrence(o) for o in occurrences],
                feedback=[
                    FeedbackView(f.id, f.kind, f.domain, f.merge_into, f.note, f.created_at)
                    for f in feedback
                ],
            )

    def templates(
        self,
        *,
        limit: int | None = 100,
        since: datetime | None = None,
        search: str | None = None,
        new_only: bool = False,
    ) -> list[TemplateSummary]:
        """Stored templates, most records first, with totals over the runs stored since
        ``since`` (all runs without it); ``search`` matches the template, example or id;
        ``new_only`` keeps those first stored by the newest run (or since ``since``)."""
        with self._session(write=False) as session:
            return template_counts.list_templates(
                session, limit=limit, since=since, search=search, new_only=new_only
            )

    def template_series(self, template_id: str, *, since: datetime | None = None) -> TemplateSeries:
        """One template's records over log time, every run merged, for a burst chart;
        :class:`~aiops_copilot.store.template_counts.UnknownTemplate` when not stored."""
        with self._session(write=False) as session:
            return template_counts.series(session, template_id, since=since)

    def runs(self, *, since: datetime | None = None, limit: int | None = None) -> list[RunSummary]:
        """Stored analyses, newest first (what each read and found)."""
        with self._session(write=False) as session:
            return activity.runs(session, since=since, limit=limit)

    def occurrence_points(
        self, *, since: datetime | None = None, limit: int | None = None
    ) -> list[OccurrencePoint]:
        """Every stored occurrence without its documents, newest first: for charts."""
        with self._session(write=False) as session:
            return activity.occurrence_points(session, since=since, limit=limit)

    # -- feedback and learned rules ------------------------------------------------------

    def give_feedback(
        self,
        key: str,
        *,
        verdict: str | None = None,
        domain: str | None = None,
        merge_into: str | None = None,
        split: bool = False,
        note: str | None = None,
        now: datetime | None = None,
    ) -> feedback.FeedbackOutcome:
        """Record a verdict on an incident and the rules it teaches, in one transaction."""
        with self._session(write=True) as session:
            row = _find(session, key)
            target = _find(session, merge_into) if merge_into else None
            if target is not None and target.id == row.id:
                raise StoreError("an incident cannot be merged into itself")
            return feedback.give(
                session,
                row,
                verdict=verdict,
                domain=domain,
                merge_into=target,
                split=split,
                note=note,
                now=now or datetime.now(UTC),
            )

    def rules(self) -> list[RuleRecord]:
        """Every learned rule, oldest first."""
        with self._session(write=False) as session:
            return feedback.all_rules(session)

    def learned(self) -> LearnedRules:
        """The rules in force, ready for the pipeline."""
        return LearnedRules.from_records(self.rules())

    def import_rules(self, records: list[RuleRecord], *, now: datetime | None = None) -> int:
        """Add exported rules from another installation; returns how many were new."""
        with self._session(write=True) as session:
            return feedback.add_rules(session, records, now or datetime.now(UTC))

    def resolve(self, key: str, note: str, *, now: datetime | None = None) -> IncidentSummary:
        """Mark an incident resolved with what fixed it; if it comes back it is "recurred"."""
        with self._session(write=True) as session:
            row = _find(session, key)
            row.status = IncidentStatus.RESOLVED.value
            row.resolved_at = now or datetime.now(UTC)
            row.resolution_note = note
            session.flush()
            return _summary(row)

    def stats(self) -> StoreStats:
        with self._session(write=False) as session:
            counts = {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in TABLES
            }
            statuses = {
                str(status): int(n)
                for status, n in session.execute(
                    select(IncidentRow.status, func.count()).group_by(IncidentRow.status)
                )
            }
            oldest, newest = session.execute(
                select(func.min(Run.started_at), func.max(Run.started_at))
            ).one()
            schema = session.scalar(text("SELECT version_num FROM alembic_version"))
            size: int | None = None
            if self.backend == "postgresql":
                size = int(session.scalar(text("SELECT pg_database_size(current_database())")))
        path = sqlite_file(self.url)
        if path is not None:
            size = sum(
                p.stat().st_size
                for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                if p.exists()
            )
        # min()/max() bypass the column type on SQLite: normalise here.
        return StoreStats(
            location=self.location,
            backend=self.backend,
            schema=str(schema) if schema is not None else None,
            size_bytes=size,
            counts=counts,
            statuses=statuses,
            oldest_run=_as_utc(oldest),
            newest_run=_as_utc(newest),
        )

    def prune(self, cutoff: datetime, *, vacuum: bool = False) -> PruneResult:
        """Delete runs older than ``cutoff`` with their occurrences, then the incidents and
        templates no occurrence refers to any more. Learned rules stay (they are keyed by
        fingerprint, not by incident)."""
        with self._session(write=True) as session:
            old_runs = select(Run.id).where(Run.started_at < cutoff)
            occurrences = int(
                session.scalar(
                    select(func.count())
                    .select_from(Occurrence)
                    .where(Occurrence.run_id.in_(old_runs))
                )
                or 0
            )
            # Deleted explicitly rather than left to ON DELETE CASCADE, so the counts are
            # right whatever the connection's foreign-key setting.
            session.execute(
                delete(OccurrenceTemplate).where(
                    OccurrenceTemplate.occurrence_id.in_(
                        select(Occurrence.id).where(Occurrence.run_id.in_(old_runs))
                    )
                )
            )
            session.execute(delete(Occurrence).where(Occurrence.run_id.in_(old_runs)))
            session.execute(delete(TemplateCountRow).where(TemplateCountRow.run_id.in_(old_runs)))
            session.execute(delete(ConsumedMessage).where(ConsumedMessage.run_id.in_(old_runs)))
            runs = _rowcount(session.execute(delete(Run).where(Run.started_at < cutoff)))
            orphan = ~exists().where(Occurrence.incident_id == IncidentRow.id)
            gone = select(IncidentRow.id).where(orphan)
            fingerprints = tuple(session.scalars(select(IncidentRow.fingerprint).where(orphan)))
            session.execute(delete(Feedback).where(Feedback.incident_id.in_(gone)))
            incidents = _rowcount(session.execute(delete(IncidentRow).where(orphan)))
            cited = exists().where(OccurrenceTemplate.template_id == Template.id)
            counted = exists().where(TemplateCountRow.template_id == Template.id)
            unused = ~cited & ~counted
            templates = _rowcount(session.execute(delete(Template).where(unused)))
        vacuumed = False
        if vacuum and self.backend == "sqlite":
            # VACUUM cannot run inside a transaction: straight to the driver, which is in
            # autocommit mode (engine.py).
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            except Exception as exc:
                raise StoreError(describe(exc, self.url)) from None
            finally:
                raw.close()
            vacuumed = True
        return PruneResult(cutoff, runs, occurrences, incidents, templates, vacuumed, fingerprints)

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        """One transaction (``BEGIN IMMEDIATE`` on SQLite when it writes); any database
        failure becomes a :class:`StoreError`."""
        try:
            with self.engine.connect() as connection:
                if write:
                    connection = connection.execution_options(**{WRITE: True})
                with (
                    Session(bind=connection, expire_on_commit=False) as session,
                    session.begin(),
                ):
                    yield session
        except SQLAlchemyError as exc:
            raise StoreError(describe(exc, self.url)) from None


def _find(session: Session, key: str) -> IncidentRow:
    key = key.strip()
    row = session.get(IncidentRow, key) if key else None
    if row is not None:
        return row
    escaped = key.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    matches = session.scalars(
        select(IncidentRow)
        .where(func.lower(IncidentRow.id).like(f"{escaped}%", escape="\\"))
        .order_by(IncidentRow.id)
        .limit(6)
    ).all()
    if len(matches) == 1 and key:
        return matches[0]
    if len(matches) > 1 and key:
        ids = ", ".join(m.id for m in matches[:5])
        raise UnknownIncident(f"incident id {key!r} is ambiguous: {ids}")
    raise UnknownIncident(f"no stored incident {key!r} (aiops incidents list shows them)")


def _summary(row: IncidentRow) -> IncidentSummary:
    return IncidentSummary(
        id=row.id,
        fingerprint=row.fingerprint,
        domain=row.domain,
        severity=row.severity,
        title=row.title,
        status=row.status,
        times_seen=row.times_seen,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        log_first_seen=row.log_first_seen,
        log_last_seen=row.log_last_seen,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
    )


def _occurrence(row: Occurrence) -> OccurrenceView:
    report = records.join(
        diagnosis=row.diagnosis,
        signals=row.signals,
        evidence=row.evidence,
        classification=row.classification,
        details=row.details,
    )
    return OccurrenceView(
        run_id=row.run_id,
        seen_at=row.seen_at,
        same_logs=row.same_logs,
        severity=row.severity,
        domain=row.domain,
        title=row.title,
        count=row.count,
        log_first_seen=row.log_first_seen,
        log_last_seen=row.log_last_seen,
        report=report,
    )


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
