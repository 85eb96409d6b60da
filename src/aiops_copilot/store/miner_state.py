"""The rows behind the template miner a group of stream consumers shares.

One ``miner_states`` row per group holds the journal's head, a snapshot and the miner's
settings; ``miner_journal`` holds the batches of distinct token sequences in the order they
were mined. :func:`lock` opens the row for one transaction: locked with ``SELECT ... FOR
UPDATE`` on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already holds the database's write
lock), so the consumers of a group take turns: catch up with the journal, absorb a batch,
append it. The logic — what to replay, when to snapshot — is the consumer's
(``stream/shared_miner.py``); this module only reads and writes rows.

Snapshots and batches are stored as JSON text, not JSONB: they are read whole and never
queried, so the database need not parse them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aiops_copilot.store.schema import MinerJournalRow, MinerStateRow


@dataclass(frozen=True, slots=True)
class JournalBatch:
    """One batch of the journal: what a consumer absorbed, to be absorbed in this order."""

    seq: int
    entries: list[Any]


class LockedMinerState:
    """A group's miner row, locked until the transaction that opened it ends."""

    def __init__(self, session: Session, row: MinerStateRow, now: datetime) -> None:
        self._session = session
        self._row = row
        self._now = now

    @property
    def name(self) -> str:
        return self._row.name

    @property
    def head(self) -> int:
        """The newest batch's sequence number (0 before the first)."""
        return self._row.head

    @property
    def snapshot_seq(self) -> int:
        """The last batch the snapshot includes (0: no snapshot, replay from the start)."""
        return self._row.snapshot_seq

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._row.config)

    def snapshot(self) -> dict[str, Any] | None:
        """The miner's state at :attr:`snapshot_seq` (``TemplateMiner.to_dict()``), if any."""
        text = self._row.snapshot
        if not text:
            return None
        state: dict[str, Any] = json.loads(text)
        return state

    def oldest(self) -> int | None:
        """The oldest batch still in the journal (None when it is empty)."""
        query = select(func.min(MinerJournalRow.seq)).where(MinerJournalRow.name == self.name)
        value = self._session.scalar(query)
        return int(value) if value is not None else None

    def journal(self, after: int) -> list[JournalBatch]:
        """The batches after ``after``, oldest first."""
        query = (
            select(MinerJournalRow.seq, MinerJournalRow.entries)
            .where(MinerJournalRow.name == self.name, MinerJournalRow.seq > after)
            .order_by(MinerJournalRow.seq)
        )
        return [
            JournalBatch(int(seq), json.loads(text)) for seq, text in self._session.execute(query)
        ]

    def append(self, entries: list[Any]) -> int:
        """Add a batch after the head; returns its sequence number (the new head)."""
        seq = self._row.head + 1
        self._session.add(
            MinerJournalRow(
                name=self.name,
                seq=seq,
                entries=json.dumps(entries, ensure_ascii=False, separators=(",", ":")),
                created_at=self._now,
            )
        )
        self._row.head = seq
        self._row.updated_at = self._now
        return seq

    def save_snapshot(self, state: dict[str, Any], *, keep: int) -> None:
        """Store the miner's state as of the head, and drop the batches older than the last
        ``keep`` before it: a replica that far behind loads the snapshot instead."""
        self._row.snapshot = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        self._row.snapshot_seq = self._row.head
        self._row.updated_at = self._now
        self._session.execute(
            delete(MinerJournalRow).where(
                MinerJournalRow.name == self.name,
                MinerJournalRow.seq <= self._row.head - keep,
            )
        )


def lock(
    session: Session, backend: str, name: str, config: dict[str, Any], now: datetime
) -> LockedMinerState:
    """The group's row, created on first use with ``config``, locked for this transaction."""
    dialect = postgresql if backend == "postgresql" else sqlite
    session.execute(
        dialect.insert(MinerStateRow)
        .values(name=name, head=0, snapshot_seq=0, config=config, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    row = session.scalars(
        select(MinerStateRow)
        .where(MinerStateRow.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return LockedMinerState(session, row, now)
