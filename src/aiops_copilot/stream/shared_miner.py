"""One template state for every consumer of a group: replicas kept in step by a journal.

The miner's templates depend only on the order in which *distinct* token sequences reach it
(:meth:`TemplateMiner.absorb`). So each consumer keeps a replica of the group's miner, and
the store keeps the order: a journal of batches of distinct sequences (``miner_journal``)
behind a per-group row (``miner_states``). Mining a batch of records:

1. tokenize them outside any lock (the costly part, done by every consumer in parallel) and
   summarise them as distinct sequences with counts, in first-occurrence order;
2. lock the group's row (``SELECT ... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``), replay the
   batches other consumers appended since this replica last looked, absorb this batch's
   sequences, append them as the next batch, commit. Absorbing a distinct sequence is a dict
   look-up once the miner has seen it, so the lock is held briefly.

Every replica therefore absorbs the same sequences in the same order and holds the same
templates with the same ids (ids are content hashes): no consumer keeps a template only it
knows. Every :data:`SNAPSHOT_EVERY` batches the consumer holding the lock also stores the
miner's state, and batches more than :data:`KEEP_BEHIND` before it are deleted; a consumer that
starts, or that fell further behind than that, loads the snapshot and replays what follows.
A replica loaded from a snapshot has the same templates but an empty sequence cache and
clusters in id order rather than recency order; until the cluster cap (``max_clusters``)
evicts, that changes nothing a template id depends on.

A failure half-way (the database went away after the replica absorbed a batch that was
never committed) leaves the replica ahead of the journal: it is marked stale and reloaded
from the snapshot before it is used again.

Batches other consumers mined are also handed to ``on_replay`` (the live pipeline folds
their counts into its baseline), so a template one consumer saw first is not "new" to the
rest of the group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from loguru import logger

from aiops_copilot.models import LogRecord
from aiops_copilot.parsing.miner import Cluster, MinerConfig, TemplateMiner
from aiops_copilot.parsing.record_mining import record_tokens
from aiops_copilot.store.miner_state import LockedMinerState
from aiops_copilot.store.sql import Store

#: Batches between two snapshots of the group's miner.
SNAPSHOT_EVERY = 100
#: Batches kept before the newest snapshot, for replicas a little behind.
KEEP_BEHIND = 200

#: What other consumers mined: each distinct sequence's cluster, count, first and last time.
Replayed = list[tuple[Cluster, int, datetime | None, datetime | None]]


@dataclass(slots=True)
class Distinct:
    """A token sequence and the records of one batch that have it."""

    tokens: list[str]
    literal_from: int
    #: The first record's message (a new cluster's example).
    message: str
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def encode(self, example_chars: int) -> list[Any]:
        """The journal's form: ``[tokens, literal_from, message, count, first, last]``."""
        return [
            self.tokens,
            self.literal_from,
            self.message[:example_chars],
            self.count,
            self.first_seen.isoformat() if self.first_seen else None,
            self.last_seen.isoformat() if self.last_seen else None,
        ]

    @classmethod
    def decode(cls, item: list[Any]) -> Distinct:
        tokens, literal_from, message, count, first, last = item
        return cls(
            tokens=[str(t) for t in tokens],
            literal_from=int(literal_from),
            message=str(message),
            count=int(count),
            first_seen=datetime.fromisoformat(first) if first else None,
            last_seen=datetime.fromisoformat(last) if last else None,
        )


def summarise(
    miner: TemplateMiner, records: Sequence[LogRecord]
) -> tuple[list[Distinct], list[int]]:
    """The batch's distinct sequences in first-occurrence order, and each record's index
    into them (tokenized exactly as :func:`~aiops_copilot.parsing.record_mining.mine_record`
    would)."""
    found: dict[tuple[int, tuple[str, ...]], int] = {}
    distinct: list[Distinct] = []
    index: list[int] = []
    for record in records:
        tokens, literal_from = record_tokens(miner, record)
        key = (literal_from, tuple(tokens))
        position = found.get(key)
        if position is None:
            position = found[key] = len(distinct)
            distinct.append(Distinct(tokens, literal_from, record.message))
        item = distinct[position]
        item.count += 1
        moment = record.timestamp
        if moment is not None:
            if item.first_seen is None or moment < item.first_seen:
                item.first_seen = moment
            if item.last_seen is None or moment > item.last_seen:
                item.last_seen = moment
        index.append(position)
    return distinct, index


class SharedMiner:
    """This consumer's replica of its group's miner (see the module's notes)."""

    def __init__(
        self,
        store: Store,
        name: str,
        config: MinerConfig,
        *,
        on_reload: Callable[[TemplateMiner], None] | None = None,
        on_replay: Callable[[Replayed], None] | None = None,
        snapshot_every: int = SNAPSHOT_EVERY,
        keep_behind: int = KEEP_BEHIND,
    ) -> None:
        self._store = store
        self._snapshot_every = max(1, snapshot_every)
        self._keep_behind = max(0, keep_behind)
        self.name = name
        self.config = config
        self.miner = TemplateMiner(config)
        #: The last journal batch this replica has absorbed.
        self.seq = 0
        self._stale = True
        self._on_reload = on_reload
        self._on_replay = on_replay

    def sync(self) -> None:
        """Catch up with the group's journal now (at start: load the snapshot and replay)."""
        self._locked(None)

    def mine(self, records: Sequence[LogRecord]) -> list[tuple[LogRecord, Cluster]]:
        """Mine a batch with the group's miner: each record with the cluster it joined."""
        if not records:
            return []
        distinct, index = summarise(self.miner, records)
        clusters = self._locked(distinct)
        return [(record, clusters[i]) for record, i in zip(records, index, strict=True)]

    # -- under the group's lock ----------------------------------------------------------

    def _locked(self, batch: list[Distinct] | None) -> list[Cluster]:
        try:
            with self._store.miner_state(self.name, _config_dict(self.config)) as state:
                self._catch_up(state)
                if batch is None:
                    return []
                clusters = [self._absorb(item) for item in batch]
                limit = self.config.example_chars
                self.seq = state.append([item.encode(limit) for item in batch])
                if state.head - state.snapshot_seq >= self._snapshot_every:
                    state.save_snapshot(self.miner.to_dict(), keep=self._keep_behind)
        except BaseException:
            self._stale = True  # it may hold a batch the journal never got
            raise
        return clusters

    def _catch_up(self, state: LockedMinerState) -> None:
        group_config = state.config
        if group_config != _config_dict(self.config):
            logger.warning(
                "template miner of group {}: using the group's settings {} (not {})",
                self.name,
                group_config,
                _config_dict(self.config),
            )
            self.config = replace(self.config, **group_config)
            self._stale = True
        if not self._stale and self.seq == state.head:
            return
        oldest = state.oldest() if self.seq < state.head else None
        # The batches it needs were compacted away (or the store was replaced under it).
        gone = self.seq < state.head and (oldest is None or oldest > self.seq + 1)
        if self._stale or gone or self.seq > state.head:
            self._reload(state)
        replayed: Replayed = []
        for journal in state.journal(self.seq):
            for item in map(Distinct.decode, journal.entries):
                cluster = self._absorb(item)
                replayed.append((cluster, item.count, item.first_seen, item.last_seen))
            self.seq = journal.seq
        if replayed and self._on_replay is not None:
            self._on_replay(replayed)

    def _reload(self, state: LockedMinerState) -> None:
        snapshot = state.snapshot()
        if snapshot is not None:
            self.miner = TemplateMiner.from_dict(snapshot, self.config)
            self.seq = state.snapshot_seq
        else:
            self.miner = TemplateMiner(self.config)
            self.seq = 0
        self._stale = False
        logger.debug("template miner of group {}: loaded at batch {}", self.name, self.seq)
        if self._on_reload is not None:
            self._on_reload(self.miner)

    def _absorb(self, item: Distinct) -> Cluster:
        return self.miner.absorb(
            item.tokens,
            item.literal_from,
            message=item.message,
            count=item.count,
            first_seen=item.first_seen,
            last_seen=item.last_seen,
        )


def _config_dict(config: MinerConfig) -> dict[str, Any]:
    """The settings every replica of a group must share."""
    return {
        "similarity": config.similarity,
        "max_constant_values": config.max_constant_values,
        "max_clusters": config.max_clusters,
    }
