"""Column types that mean the same on SQLite and PostgreSQL.

SQLite has no time zones: a ``DateTime`` comes back naive whatever went in, while PostgreSQL's
``timestamptz`` comes back aware. Two decorators settle it once, so no query or comparison in
the store has to care which database it talks to:

* :class:`UTCDateTime` for times the store itself records (when an analysis ran, when someone
  resolved an incident): always stored as UTC, always returned aware in UTC.
* :class:`LogTime` for times read from logs: a source with a zone is converted to UTC, a source
  without one (an RFC 3164 syslog line) keeps its own wall-clock time, and both are stored and
  returned naive, so overlapping windows compare without "naive vs aware" errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: JSON documents (diagnoses, signals, evidence): JSONB on PostgreSQL, text on SQLite.
JSONDoc: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def log_time(moment: datetime | None) -> datetime | None:
    """A log time as the store keeps it: UTC when the source had a zone, naive either way."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time the store recorded: UTC in, aware UTC out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


class LogTime(TypeDecorator[datetime]):
    """A time read from a log: naive, in UTC when the source said which zone it was in."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return log_time(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value
