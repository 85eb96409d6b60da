"""The read queries the API needs beyond :class:`Store`'s own methods: filtered, paged
incident lists with a total, open incidents per domain and severity, a readiness ping.

Read-only and over the store's own tables (``store/schema.py``), so they stay right whatever
writes them (``analyze``, ``watch``, this server); written here because paging and a total
count are an API's concern, not the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from aiops_copilot.store.engine import describe
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.schema import IncidentRow
from aiops_copilot.store.sql import (
    IncidentSummary,
    Store,
    _summary,  # one row-to-summary mapping for every reader
)

#: Statuses that count as "open" for the metrics: nobody has said they are fixed.
OPEN_STATUSES = ("open", "recurred")


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: str | None = None
    domain: str | None = None
    severity: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: list[IncidentSummary]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.items)
        return following if following < self.total else None


def list_incidents(store: Store, where: IncidentFilter, *, limit: int, offset: int) -> IncidentPage:
    """Incidents most recently seen first (id breaks ties: pages never overlap)."""
    query = select(IncidentRow)
    if where.status is not None:
        query = query.where(IncidentRow.status == where.status)
    if where.domain is not None:
        query = query.where(IncidentRow.domain == where.domain)
    if where.severity is not None:
        query = query.where(IncidentRow.severity == where.severity)
    if where.since is not None:
        query = query.where(IncidentRow.last_seen_at >= where.since)
    counted = select(func.count()).select_from(query.subquery())
    page = query.order_by(IncidentRow.last_seen_at.desc(), IncidentRow.id).limit(limit)
    try:
        with Session(store.engine) as session:
            total = int(session.scalar(counted) or 0)
            rows = session.scalars(page.offset(offset)).all()
            items = [_summary(row) for row in rows]
    except SQLAlchemyError as exc:
        raise StoreError(describe(exc, store.url)) from None
    return IncidentPage(items, total, limit, offset)


def open_counts(store: Store) -> dict[tuple[str, str], int]:
    """(domain, severity) -> incidents open or recurred; an unrouted one's domain is ""."""
    query = (
        select(IncidentRow.domain, IncidentRow.severity, func.count())
        .where(IncidentRow.status.in_(OPEN_STATUSES))
        .group_by(IncidentRow.domain, IncidentRow.severity)
    )
    try:
        with Session(store.engine) as session:
            return {
                (domain or "", severity): int(count)
                for domain, severity, count in session.execute(query)
            }
    except SQLAlchemyError as exc:
        raise StoreError(describe(exc, store.url)) from None


def ping(store: Store) -> None:
    """Raise :class:`StoreError` unless the store answers a trivial query."""
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StoreError(describe(exc, store.url)) from None
