"""The store's tables as typed SQLAlchemy models.

One row per *kind* of problem (``incidents``, keyed by the fingerprint that stays stable across
runs) and one row per time an analysis found it (``occurrences``), so history is a count and a
join rather than a search. ``feedback`` and ``rules`` are here for the learning part of the
memory milestone; this module only defines them.

Changing a table means a new Alembic revision in ``migrations/versions`` as well: the test
suite compares these models with the migrated schema and fails on any difference.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aiops_copilot.models import IncidentStatus
from aiops_copilot.store.types import JSONDoc, LogTime, UTCDateTime

#: Deterministic constraint names, so later migrations can name what they alter.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = tuple(status.value for status in IncidentStatus)
FEEDBACK_KINDS = ("correct", "wrong", "domain", "merge", "split")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Run(Base):
    """One ``aiops analyze``: when, what it read, what it found."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    command: Mapped[str] = mapped_column(String(32))
    tool_version: Mapped[str] = mapped_column(String(32))
    #: Per source: name, format, lines, records, bytes.
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    templates: Mapped[int] = mapped_column(Integer, default=0)
    incidents: Mapped[int] = mapped_column(Integer, default=0)
    #: Incidents per severity.
    severities: Mapped[dict[str, int]] = mapped_column(JSONDoc)

    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class Template(Base):
    """A log template an incident cited (its id is the miner's stable content hash)."""

    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template: Mapped[str] = mapped_column(Text)
    example: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The earliest and latest log times of its counted records, over every run (a later run
    #: whose window overlaps this one read the same lines again).
    log_first_seen: Mapped[datetime | None] = mapped_column(LogTime)
    log_last_seen: Mapped[datetime | None] = mapped_column(LogTime)


class TemplateCountRow(Base):
    """One template as one analysis counted it: every template of the run, cited or not.

    ``buckets`` is a sparse histogram, ``[[epoch_minute, records], ...]`` (bucket start, in
    the log-time convention of :class:`~aiops_copilot.store.types.LogTime`), ``bucket_minutes``
    wide: one minute unless the run spans too long a time for that (see recording.py).
    """

    __tablename__ = "template_counts"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(
        ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: Records of this template in the run.
    count: Mapped[int] = mapped_column(Integer)
    #: Of those, the ones not read before: all of them unless the run's log window overlaps
    #: an earlier run's (the same file again, or a file that grew: then only the later part).
    added: Mapped[int] = mapped_column(Integer)
    #: The store had never seen this template before this run.
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The log window overlaps what earlier runs counted for this template.
    same_logs: Mapped[bool] = mapped_column(Boolean, default=False)
    log_first_seen: Mapped[datetime | None] = mapped_column(LogTime)
    log_last_seen: Mapped[datetime | None] = mapped_column(LogTime)
    bucket_minutes: Mapped[int] = mapped_column(Integer, default=1)
    buckets: Mapped[list[list[int]]] = mapped_column(JSONDoc)


class IncidentRow(Base):
    """One kind of problem across every analysis that found it."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved', 'recurred')", name="status"),
        CheckConstraint("times_seen >= 0", name="times_seen"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text, unique=True)
    domain: Mapped[str | None] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: When analyses saw it (UTC): the first and the latest.
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Sightings: analyses that found it in lines not seen before (re-reading the same logs
    #: does not count).
    times_seen: Mapped[int] = mapped_column(Integer, default=0)
    #: The earliest and latest log times of all its records (see types.LogTime).
    log_first_seen: Mapped[datetime | None] = mapped_column(LogTime)
    log_last_seen: Mapped[datetime | None] = mapped_column(LogTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)

    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True
    )
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True
    )


class Occurrence(Base):
    """One incident as one analysis found it: counts, times, and the diagnosis of that day."""

    __tablename__ = "occurrences"
    __table_args__ = (Index("ix_occurrences_incident_seen", "incident_id", "seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The lines overlap in time with an earlier sighting (not counted as a recurrence).
    same_logs: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    agent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    log_first_seen: Mapped[datetime | None] = mapped_column(LogTime)
    log_last_seen: Mapped[datetime | None] = mapped_column(LogTime)
    #: The JSON contract's pieces (report/incidents_json.py), split by what reads them.
    diagnosis: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc)

    run: Mapped[Run] = relationship(back_populates="occurrences")
    incident: Mapped[IncidentRow] = relationship(back_populates="occurrences")


class OccurrenceTemplate(Base):
    """Which templates an occurrence cited, and how many records each."""

    __tablename__ = "occurrence_templates"

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE"), primary_key=True
    )
    template_id: Mapped[str] = mapped_column(
        ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    count: Mapped[int] = mapped_column(Integer)


class Feedback(Base):
    """A person's verdict on an incident (written by ``aiops feedback``)."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("kind IN ('correct', 'wrong', 'domain', 'merge', 'split')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(32))
    merge_into: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    incident: Mapped[IncidentRow] = relationship(back_populates="feedback")


class Rule(Base):
    """A learned rule, keyed by fingerprint so it outlives pruned incidents and can move
    between installations."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), index=True
    )


class ConsumedMessage(Base):
    """A broker message whose records are stored: the ledger that makes a redelivery harmless.

    ``aiops consume`` writes one row per message in the same transaction as the window's run,
    incidents and template counts, so "stored" and "in the ledger" are one fact; a message
    delivered again (a consumer died between that commit and its acknowledgement) is found
    here and dropped before it is counted. The primary key decides when two consumers race.
    """

    __tablename__ = "consumed"

    #: The stream as the consumers name it (``redis:STREAM``, ``nats:STREAM``, ``kafka:TOPIC``).
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The broker's id: a stream sequence, an entry id, ``partition:offset``.
    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    consumed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MinerStateRow(Base):
    """The template miner a group of stream consumers shares: a snapshot and a journal head.

    Every consumer keeps a replica of the miner and brings it up to date, under this row's
    lock, by replaying the journal (``miner_journal``) from where its replica stands; the
    snapshot (the miner's JSON state at ``snapshot_seq``) serves a consumer that starts, or
    that fell behind the journal rows already compacted away.
    """

    __tablename__ = "miner_states"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: The newest journal row's sequence number (0: nothing mined yet).
    head: Mapped[int] = mapped_column(Integer, default=0)
    #: The journal row the snapshot includes, and every row before it.
    snapshot_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: ``TemplateMiner.to_dict()`` as JSON text (opaque to the database; never queried).
    snapshot: Mapped[str | None] = mapped_column(Text)
    #: The miner settings every replica must share (similarity, constants, cap).
    config: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MinerJournalRow(Base):
    """One batch of distinct token sequences a consumer mined, in the order every replica
    must absorb them (JSON text: ``[[tokens, literal_from, message, count, first, last], ...]``)."""

    __tablename__ = "miner_journal"

    name: Mapped[str] = mapped_column(
        ForeignKey("miner_states.name", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
