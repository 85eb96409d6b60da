"""The ledger of consumed broker messages: what makes at-least-once delivery count once.

A stream consumer (``aiops consume``) acknowledges a message only after the window holding
its records is stored, so a consumer that dies in between leaves the message to be delivered
again. The ledger is how the store knows it already has it:

* :func:`claim` writes one row per message of a window *inside* the transaction that records
  the window (``Store.record(..., consumed=...)``), so the run, its counts and the ledger
  rows are committed together or not at all;
* :func:`known` is asked before a batch is analysed: messages already in the ledger are
  dropped (and acknowledged) without being counted;
* two consumers that received the same message (its visibility timeout ran out while the
  first still held it) both try to claim it; the primary key lets one win. The loser's
  transaction is rolled back with :class:`AlreadyConsumed`, naming the messages it lost, and
  the consumer gives the rest back to the broker to be analysed again without them.

Ids are claimed in sorted order, so two writers wait for each other instead of deadlocking.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from aiops_copilot.store.location import StoreError
from aiops_copilot.store.types import UTCDateTime

#: Ids per statement (one array parameter: a window's worth at once).
CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Consumption:
    """The broker messages whose records a window holds: ``source`` names the stream."""

    source: str
    ids: tuple[str, ...]


class AlreadyConsumed(StoreError):
    """Another consumer stored some of these messages first; nothing of this window was."""

    def __init__(self, source: str, ids: Iterable[str]) -> None:
        self.source = source
        self.ids = frozenset(ids)
        super().__init__(
            f"{len(self.ids):,} message(s) of {source} were stored by another consumer first"
        )


def known(session: Session, source: str, ids: Sequence[str]) -> set[str]:
    """The ids among ``ids`` the ledger already holds (committed by any consumer)."""
    found: set[str] = set()
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        rows = session.execute(
            _KNOWN[session.get_bind().dialect.name == "postgresql"],
            {"source": source, "ids": _ids(session, unique[start : start + CHUNK])},
        )
        found.update(row[0] for row in rows)
    return found


def claim(
    session: Session, backend: str, consumption: Consumption, run_id: int, now: datetime
) -> None:
    """Write the window's ledger rows; :class:`AlreadyConsumed` when any was there already
    (the caller's transaction must then roll back: the window is not stored)."""
    ids = sorted(set(consumption.ids))
    taken: set[str] = set()
    statement = _CLAIM[backend == "postgresql"]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        inserted = set(
            session.scalars(
                statement,
                {
                    "source": consumption.source,
                    "ids": _ids(session, chunk),
                    "run_id": run_id,
                    "now": now,
                },
            )
        )
        taken.update(message_id for message_id in chunk if message_id not in inserted)
    if taken:
        raise AlreadyConsumed(consumption.source, taken)


def _ids(session: Session, ids: list[str]) -> list[str] | str:
    """The ids as one parameter: an array for PostgreSQL, a JSON array for SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return ids
    return json.dumps(ids)


# One statement per chunk of ids, whatever its size: the ids travel as one array parameter
# (PostgreSQL ``unnest``, SQLite ``json_each``), not as thousands of bound values that the
# driver would have to parse and the planner to weigh. Rows go in sorted by id, so two
# writers claiming overlapping windows wait for each other instead of deadlocking.
_CLAIM = {
    True: text(
        "INSERT INTO consumed (source, message_id, run_id, consumed_at) "
        "SELECT :source, u.id, :run_id, :now FROM unnest(CAST(:ids AS varchar[])) AS u(id) "
        "ORDER BY u.id ON CONFLICT (source, message_id) DO NOTHING RETURNING message_id"
    ).bindparams(bindparam("now", type_=UTCDateTime())),
    False: text(
        "INSERT INTO consumed (source, message_id, run_id, consumed_at) "
        "SELECT :source, value, :run_id, :now FROM json_each(:ids) WHERE true "
        "ON CONFLICT (source, message_id) DO NOTHING RETURNING message_id"
    ).bindparams(bindparam("now", type_=UTCDateTime())),
}
_KNOWN = {
    True: text(
        "SELECT message_id FROM consumed "
        "WHERE source = :source AND message_id = ANY(CAST(:ids AS varchar[]))"
    ),
    False: text(
        "SELECT message_id FROM consumed "
        "WHERE source = :source AND message_id IN (SELECT value FROM json_each(:ids))"
    ),
}
