"""Template counts: every template each analysis saw, how often, and when (per minute).

Written by :func:`record_run` inside ``Store.record``'s transaction, read by
:func:`list_templates` and :func:`series` (``Store.templates`` and ``Store.template_series``),
which the dashboard and the API show. Why it is shaped this way:

* **One row per template per run**, not per minute: a run of a million lines has a few hundred
  templates, so the write stays a couple of multi-row inserts.
* **A sparse histogram per row** (``[[minute, records], ...]``) for the burst chart, one minute
  wide unless the run's logs span more than :data:`MAX_BUCKETS` of them; then the next width
  of :data:`WIDTHS` that fits. Every width divides the next, so histograms of different runs
  merge exactly at the widest one.
* **"New" is decided by the insert itself** (``INSERT ... ON CONFLICT DO NOTHING RETURNING``):
  the rows that went in are the templates no earlier (committed) run had, which stays right
  when two writers record at once.
* **Reading the same lines twice is not counted twice.** Each template keeps the log-time
  window of everything counted so far; a run whose window overlaps it (the same file again,
  or a file that grew) adds only the minutes after that window (``added``), and its histogram
  merges by maximum instead of sum. Two different sources logging the same template in the
  same minutes and analysed in separate runs look alike and are merged the same way; analysed
  together in one run they are counted in full.
* Bucket minutes are in the store's log-time convention (``types.LogTime``): UTC when the
  source had a zone, the source's own wall clock when it had none.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aiops_copilot.models import TemplateCount
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.schema import Run, Template, TemplateCountRow
from aiops_copilot.store.types import log_time

#: Most buckets one run's histogram keeps (four hours at one minute).
MAX_BUCKETS = 240
#: Bucket widths in minutes, finest first; each divides the next.
WIDTHS = (1, 5, 15, 60, 360, 1440, 10080)
#: Rows per multi-row statement: 10 columns x 400 rows stays far below parameter limits.
CHUNK = 400
_EPOCH = datetime(1970, 1, 1)
_LOCAL_IS_UTC = time.timezone == 0 and time.altzone == 0


class UnknownTemplate(StoreError):
    """No stored template has that id."""


@dataclass(frozen=True, slots=True)
class TemplateSummary:
    """A stored template with its totals over the runs asked about."""

    id: str
    template: str
    example: str
    #: Records counted, the same lines read twice counted once (see the module's notes).
    total: int
    #: Analyses that saw it.
    runs: int
    first_seen_at: datetime
    last_seen_at: datetime
    log_first_seen: datetime | None
    log_last_seen: datetime | None
    #: First stored by the newest run (or, with ``since``, at or after it).
    new: bool


@dataclass(frozen=True, slots=True)
class TemplateSeries:
    """A template's records over log time, every run merged, for a burst chart."""

    template_id: str
    template: str
    #: Width of every bucket, in minutes.
    bucket_minutes: int
    #: (bucket start as a log time, records), oldest first.
    points: list[tuple[datetime, int]]


# -- writing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Counted:
    item: TemplateCount
    #: Log-time epoch minute -> records (the histogram at one minute, before compaction).
    minutes: dict[int, int]
    first: datetime | None
    last: datetime | None


def record_run(
    session: Session,
    backend: str,
    run_id: int,
    counts: Sequence[TemplateCount],
    now: datetime,
    *,
    fresh: bool = False,
) -> int:
    """Store one run's template counts; returns how many templates were new to the store.

    ``fresh``: the run's lines are known never to have been counted (a stream consumer's
    window, kept unique by the ledger of consumed messages), so an overlapping log window is
    not taken for the same lines read again: everything counts as added."""
    counted = _prepare(counts)
    if not counted:
        return 0
    ids = sorted(counted)
    new_ids = _insert_new(session, backend, [counted[key] for key in ids], now)
    known = [key for key in ids if key not in new_ids]
    previous = _lock_known(session, known)
    updates: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for key in ids:
        entry = counted[key]
        added, same = entry.item.count, False
        if key in previous:
            before_first, before_last = previous[key]
            same = not fresh and _overlaps(entry.first, entry.last, before_first, before_last)
            if same and before_last is not None:
                cutoff = _minute(before_last)
                added = sum(n for minute, n in entry.minutes.items() if minute > cutoff)
            updates.append(
                {
                    "key": key,
                    "last_seen_at": now,
                    "log_first_seen": _earliest(before_first, entry.first),
                    "log_last_seen": _latest(before_last, entry.last),
                }
            )
        width, buckets = histogram(entry.minutes)
        rows.append(
            {
                "run_id": run_id,
                "template_id": key,
                "count": entry.item.count,
                "added": added,
                "is_new": key in new_ids,
                "same_logs": same,
                "log_first_seen": entry.first,
                "log_last_seen": entry.last,
                "bucket_minutes": width,
                "buckets": buckets,
            }
        )
    for chunk in _chunks(updates):
        session.execute(_WINDOW_UPDATE, chunk)
    for chunk in _chunks(rows):
        session.execute(_insert(backend, _COUNTS), chunk)
    return len(new_ids)


def _prepare(counts: Iterable[TemplateCount]) -> dict[str, _Counted]:
    """One entry per template id (an id twice in the input is summed), minutes in log time."""
    out: dict[str, _Counted] = {}
    for item in counts:
        naive = item.first_seen is not None and item.first_seen.tzinfo is None
        minutes = _log_minutes(item.minutes, naive)
        first, last = log_time(item.first_seen), log_time(item.last_seen)
        entry = out.get(item.template_id)
        if entry is None:
            out[item.template_id] = _Counted(item, minutes, first, last)
            continue
        merged = dict(entry.minutes)
        for minute, n in minutes.items():
            merged[minute] = merged.get(minute, 0) + n
        total = TemplateCount(
            item.template_id, entry.item.template, entry.item.example, entry.item.count + item.count
        )
        out[item.template_id] = _Counted(
            total, merged, _earliest(entry.first, first), _latest(entry.last, last)
        )
    return out


def _log_minutes(minutes: dict[int, int], naive: bool) -> dict[int, int]:
    """Epoch minutes as the statistics count them, turned into the store's log-time minutes.

    ``datetime.timestamp()`` reads a naive time as local time; the store keeps a naive log
    time as the source's wall clock, so the local offset is taken back out (nothing to do on a
    machine whose clock is UTC).
    """
    if not naive or _LOCAL_IS_UTC:
        return minutes  # read only: merging makes a new dict
    out: dict[int, int] = {}
    for minute, n in minutes.items():
        wall = datetime.fromtimestamp(int(minute) * 60)
        key = _minute(wall)
        out[key] = out.get(key, 0) + int(n)
    return out


def histogram(minutes: dict[int, int]) -> tuple[int, list[list[int]]]:
    """The finest width of :data:`WIDTHS` that keeps at most :data:`MAX_BUCKETS` buckets, and
    the sparse buckets ``[[start_minute, records], ...]`` at that width, oldest first."""
    if len(minutes) <= MAX_BUCKETS:  # the usual case: one-minute buckets as they are
        return 1, [[minute, minutes[minute]] for minute in sorted(minutes)]
    width = WIDTHS[-1]
    for candidate in WIDTHS[1:]:
        if len({minute // candidate for minute in minutes}) <= MAX_BUCKETS:
            width = candidate
            break
    buckets: dict[int, int] = {}
    for minute, n in minutes.items():
        start = minute - minute % width
        buckets[start] = buckets.get(start, 0) + n
    return width, [[start, buckets[start]] for start in sorted(buckets)]


def _insert_new(session: Session, backend: str, entries: list[_Counted], now: datetime) -> set[str]:
    """Insert the templates the store does not have; the ids that went in (``RETURNING``
    gives back only the rows inserted, never the ones that conflicted)."""
    statement = (
        _insert(backend, _TEMPLATES)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_TEMPLATES.c.id)
    )
    new: set[str] = set()
    for chunk in _chunks(entries):
        values = [
            {
                "id": entry.item.template_id,
                "template": entry.item.template,
                "example": entry.item.example,
                "first_seen_at": now,
                "last_seen_at": now,
                "log_first_seen": entry.first,
                "log_last_seen": entry.last,
            }
            for entry in chunk
        ]
        new.update(session.scalars(statement, values))
    return new


def _lock_known(
    session: Session, ids: list[str]
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """The log window counted so far for each known template, rows locked (PostgreSQL) in id
    order so two writers cannot deadlock; SQLite's write lock is already held."""
    windows: dict[str, tuple[datetime | None, datetime | None]] = {}
    for chunk in _chunks(ids):
        query = (
            select(Template.id, Template.log_first_seen, Template.log_last_seen)
            .where(Template.id.in_(chunk))
            .order_by(Template.id)
            .with_for_update()
        )
        for key, first, last in session.execute(query):
            windows[key] = (first, last)
    return windows


def _overlaps(
    first: datetime | None,
    last: datetime | None,
    before_first: datetime | None,
    before_last: datetime | None,
) -> bool:
    if first is None or last is None or before_first is None or before_last is None:
        return False
    return first <= before_last and last >= before_first


# -- reading ---------------------------------------------------------------------------------


def list_templates(
    session: Session,
    *,
    limit: int | None = 100,
    since: datetime | None = None,
    search: str | None = None,
    new_only: bool = False,
) -> list[TemplateSummary]:
    """Stored templates, most records first: totals over the runs stored at or after
    ``since`` (every run without it), ``search`` in the template, its example or its id."""
    counts = select(
        TemplateCountRow.template_id.label("template_id"),
        func.sum(TemplateCountRow.added).label("total"),
        func.count().label("runs"),
    )
    if since is not None:
        counts = counts.join(Run, Run.id == TemplateCountRow.run_id).where(Run.stored_at >= since)
    sub = counts.group_by(TemplateCountRow.template_id).subquery()
    total = func.coalesce(sub.c.total, 0)
    runs = func.coalesce(sub.c.runs, 0)
    query = select(Template, total, runs).outerjoin(sub, sub.c.template_id == Template.id)
    newest = (
        since
        if since is not None
        else _as_datetime(session.scalar(select(func.max(Run.stored_at))))
    )
    if since is not None:
        query = query.where(Template.last_seen_at >= since)
    if search:
        pattern = "%" + _escape(search.strip().lower()) + "%"
        query = query.where(
            or_(
                func.lower(Template.template).like(pattern, escape="\\"),
                func.lower(Template.example).like(pattern, escape="\\"),
                func.lower(Template.id).like(pattern, escape="\\"),
            )
        )
    if new_only:
        query = query.where(
            Template.first_seen_at >= newest if newest is not None else literal(False)
        )
    query = query.order_by(total.desc(), Template.last_seen_at.desc(), Template.id)
    if limit:
        query = query.limit(limit)
    found = []
    for row, n, seen in session.execute(query):
        found.append(
            TemplateSummary(
                id=row.id,
                template=row.template,
                example=row.example,
                total=int(n or 0),
                runs=int(seen or 0),
                first_seen_at=row.first_seen_at,
                last_seen_at=row.last_seen_at,
                log_first_seen=row.log_first_seen,
                log_last_seen=row.log_last_seen,
                new=newest is not None and row.first_seen_at >= _aware(newest),
            )
        )
    return found


def series(session: Session, template_id: str, *, since: datetime | None = None) -> TemplateSeries:
    """Every run's histogram of one template merged at the widest width among them: new lines
    add up, lines read again (``same_logs``) count once (the larger of the two)."""
    row = session.get(Template, template_id.strip())
    if row is None:
        raise UnknownTemplate(f"no stored template {template_id!r}")
    query = select(
        TemplateCountRow.bucket_minutes, TemplateCountRow.buckets, TemplateCountRow.same_logs
    ).where(TemplateCountRow.template_id == row.id)
    if since is not None:
        query = query.join(Run, Run.id == TemplateCountRow.run_id).where(Run.stored_at >= since)
    parts = list(session.execute(query.order_by(TemplateCountRow.run_id)))
    width = max((int(w) for w, buckets, _ in parts if buckets), default=1)
    merged: dict[int, int] = {}
    for _, buckets, same in parts:
        local: dict[int, int] = {}
        for start, n in buckets or []:
            key = int(start) - int(start) % width
            local[key] = local.get(key, 0) + int(n)
        for key, n in local.items():
            merged[key] = max(merged.get(key, 0), n) if same else merged.get(key, 0) + n
    points = [(_EPOCH + timedelta(minutes=key), merged[key]) for key in sorted(merged)]
    return TemplateSeries(row.id, row.template, width, points)


# -- helpers ---------------------------------------------------------------------------------


#: Core statements (not ORM bulk operations): a few hundred rows go in per run, and the ORM's
#: per-row bookkeeping would cost more than the database does.
_TEMPLATES = cast(Table, Template.__table__)
_COUNTS = cast(Table, TemplateCountRow.__table__)
_WINDOW_UPDATE = (
    update(_TEMPLATES)
    .where(_TEMPLATES.c.id == bindparam("key"))
    .values(
        last_seen_at=bindparam("last_seen_at"),
        log_first_seen=bindparam("log_first_seen"),
        log_last_seen=bindparam("log_last_seen"),
    )
)


def _insert(backend: str, model: Any) -> Any:
    return (postgresql if backend == "postgresql" else sqlite).insert(model)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _minute(moment: datetime) -> int:
    """A naive log time's minute since the epoch, reading it as UTC (the store's convention)."""
    return int((moment.replace(tzinfo=None) - _EPOCH).total_seconds()) // 60


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _as_datetime(value: Any) -> datetime | None:
    """``max()`` over a time column: SQLite gives the stored text back, not the column type."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _aware(value) if isinstance(value, datetime) else None
