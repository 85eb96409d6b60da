"""The consume loop: fetch, drop what is stored, decode, mine, count, store, acknowledge.

One thread, one consumer, one live pipeline. Per fetched batch:

1. messages this window already holds (delivered again: their visibility timeout ran out)
   are ignored; they are acknowledged with the window;
2. messages delivered before (the broker says so) that the ledger already holds were stored
   (a consumer died between storing and acknowledging): acknowledged at once, never counted.
   A first delivery cannot be in the ledger, so it is not looked up (the look-up is an
   ``IN`` list on a table of millions of rows); the ledger's key still has the last word;
3. the rest are decoded into records (``payloads.py``), mined with the group's shared miner
   (``shared_miner.py``) and counted into the pipeline's current window.

When the window is due (``--window`` seconds after its first record) or full
(``--max-window-records``), it is analysed and stored *with its messages' ledger rows in the
same transaction*, and only then are its messages acknowledged. So:

* a crash before that commit loses nothing: the messages were never acknowledged and come
  back after ``ack_wait`` (to this consumer's successor or a sibling);
* a crash after the commit, before the acknowledgement, doubles nothing: the redelivered
  messages are in the ledger and dropped at step 2;
* two consumers that got the same message cannot both store it: the ledger's key lets one
  commit; the other's whole window is rolled back, the messages it lost are acknowledged,
  the rest given back to the broker to come again (:class:`AlreadyConsumed`);
* a store that fails gives the window's messages back too, and the loop backs off.

A broker that does not answer is one warning line per attempt and a retry with a growing
pause (1 s doubling to 30 s); the window in hand is kept. Stopping (``stop`` set by SIGTERM
or Ctrl-C, ``max_messages`` fetched, or ``exit_after_idle`` seconds without a message) always
ends the same way: the window in hand is stored and acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from loguru import logger

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.models import AnalysisResult
from aiops_copilot.store.consumed import AlreadyConsumed, Consumption
from aiops_copilot.store.location import StoreError
from aiops_copilot.stream.broker import BrokerError, Consumer, Message
from aiops_copilot.stream.payloads import PayloadDecoder
from aiops_copilot.stream.shared_miner import Replayed, SharedMiner

if TYPE_CHECKING:
    from aiops_copilot.live.pipeline import LivePipeline
    from aiops_copilot.store.sql import Store, StoredRun

#: Pauses between attempts while the broker or the store is away, in seconds.
BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """How much to fetch at once, and when to stop by itself."""

    batch: int = 1000
    #: Longest a fetch waits for messages (also how soon a stop request is noticed).
    poll: float = 1.0
    exit_after_idle: float | None = None
    max_messages: int | None = None


@dataclass(slots=True)
class WorkerStats:
    """What the loop did, for the farewell line and the tests."""

    #: Messages delivered to this consumer (again-deliveries included).
    fetched: int = 0
    #: Of those, found in the ledger (stored before): acknowledged, not counted.
    duplicates: int = 0
    #: Messages stored and acknowledged in this consumer's windows.
    stored: int = 0
    #: Messages given back to the broker (their window was not stored).
    released: int = 0
    records: int = 0
    windows: int = 0
    broker_errors: int = 0
    store_errors: int = 0
    #: The broker answered at least once.
    connected: bool = False
    #: The last broker failure, when the broker is away now.
    broker_down: str | None = None


class Backoff:
    """1 s, 2 s, 4 s ... 30 s; back to the start once something works."""

    def __init__(self, steps: tuple[float, ...] = BACKOFF) -> None:
        self._steps = steps
        self._index = 0

    def next(self) -> float:
        delay = self._steps[min(self._index, len(self._steps) - 1)]
        self._index += 1
        return delay

    def reset(self) -> None:
        self._index = 0


class StreamWorker:
    """The loop of one ``aiops consume`` (see the module's notes)."""

    def __init__(
        self,
        connect: Callable[[], Consumer],
        pipeline: LivePipeline,
        shared: SharedMiner,
        decoder: PayloadDecoder,
        limits: WorkerLimits,
    ) -> None:
        self._connect = connect
        self._pipeline = pipeline
        self._shared = shared
        self._decoder = decoder
        self._limits = limits
        self._consumer: Consumer | None = None
        self._window: dict[str, None] = {}  # message ids in the current window, in order
        self._consumption: Consumption | None = None
        self._backoff = Backoff()
        self.stats = WorkerStats()

    # -- hooks the pipeline and the shared miner call ------------------------------------

    def record(self, store: Store, result: AnalysisResult, opened: datetime | None) -> StoredRun:
        """The pipeline's recorder: the window and its messages' ledger rows, one commit."""
        consumption = self._consumption
        if consumption is None:
            raise StoreError("a window without its messages is not stored")
        return store.record(result, command="consume", started_at=opened, consumed=consumption)

    def learn(self, replayed: Replayed) -> None:
        """What other consumers of the group mined becomes part of this one's baseline."""
        known: dict[int, int] = {}
        clusters = {}
        first: datetime | None = None
        last: datetime | None = None
        for cluster, count, seen_first, seen_last in replayed:
            survivor = cluster.resolve()
            known[survivor.cid] = known.get(survivor.cid, 0) + count
            clusters[survivor.cid] = survivor
            if seen_first is not None and (first is None or seen_first < first):
                first = seen_first
            if seen_last is not None and (last is None or seen_last > last):
                last = seen_last
        minutes = int((last - first).total_seconds() // 60) + 1 if first and last else 0
        self._pipeline.learn(
            Baseline(known=known, records=sum(known.values()), minutes=minutes, clusters=clusters)
        )

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> WorkerStats:
        """Consume until ``stop`` is set or a limit is reached; store what is held; return."""
        limits = self._limits
        last_input = time.monotonic()
        try:
            while not stop.is_set():
                wanted = limits.batch
                if limits.max_messages is not None:
                    wanted = min(wanted, limits.max_messages - self.stats.fetched)
                    if wanted <= 0:
                        break
                pause = self._step(wanted)
                if self._pipeline.due():
                    self._conclude()
                if pause is None:  # messages came: idle from the end of their handling on
                    last_input = time.monotonic()
                idle = time.monotonic() - last_input
                if limits.exit_after_idle is not None:
                    if idle >= limits.exit_after_idle:
                        break
                    pause = min(pause or 0.0, limits.exit_after_idle - idle)
                due = self._pipeline.seconds_until_due()
                if pause and due is not None:  # a back-off never makes a window late
                    pause = min(pause, max(due, 0.05))
                if pause:
                    stop.wait(pause)
        finally:
            self._conclude()
        return self.stats

    def close(self) -> None:
        """Leave the group (after :meth:`run`)."""
        if self._consumer is not None:
            try:
                self._consumer.close()
            except BrokerError as exc:
                logger.info("leaving the group: {}", exc)
            self._consumer = None

    def _step(self, wanted: int) -> float | None:
        """One fetch and what follows; None when messages came, else seconds to pause
        before the next (0: go on at once)."""
        consumer = self._connected()
        if isinstance(consumer, float):
            return consumer
        try:
            messages = consumer.fetch(wanted, self._limits.poll)
        except BrokerError as exc:
            return self._broker_failed(exc)
        self._broker_answered()
        if not messages:
            return 0.0
        self.stats.fetched += len(messages)
        logger.debug("fetched {:,} message(s) from {}", len(messages), consumer.source)
        return self._take(consumer, messages)

    def _connected(self) -> Consumer | float:
        """The consumer, connected now if it was not; else the seconds to wait first."""
        if self._consumer is None:
            try:
                self._consumer = self._connect()
            except BrokerError as exc:
                return self._broker_failed(exc)
            self._broker_answered()
        return self._consumer

    def _take(self, consumer: Consumer, messages: list[Message]) -> float | None:
        source = consumer.source
        fresh: list[Message] = []
        seen: set[str] = set()
        for message in messages:  # held already, or twice in one batch: once is enough
            if message.id not in self._window and message.id not in seen:
                seen.add(message.id)
                fresh.append(message)
        if not fresh:
            return None
        # Only a message delivered before can be stored already: first deliveries skip the
        # look-up (a big IN list costs on a ledger of millions), the ledger's key decides.
        again = [m.id for m in fresh if m.redelivered]
        try:
            done = self._pipeline_store().consumed(source, again) if again else set()
        except StoreError as exc:
            return self._store_failed(consumer, [m.id for m in fresh], exc)
        if done:
            self.stats.duplicates += len(done)
            self._ack(consumer, sorted(done))
            fresh = [m for m in fresh if m.id not in done]
        if not fresh:
            return None
        records = self._decoder.decode(fresh, source)
        try:
            pairs = self._shared.mine(records)
        except StoreError as exc:
            return self._store_failed(consumer, [m.id for m in fresh], exc)
        self._pipeline.feed_mined(pairs)
        self.stats.records += len(pairs)
        self._window.update(dict.fromkeys(m.id for m in fresh))
        if self._pipeline.stats.pending_records == 0:
            self._conclude()  # messages without records: nothing to store, done with
        self._backoff.reset()
        return None

    def _conclude(self) -> None:
        """Store the window with its ledger rows, then acknowledge its messages."""
        if not self._window:
            return
        consumer = self._consumer
        ids = tuple(self._window)
        self._window = {}
        self._consumption = Consumption(consumer.source if consumer else "", ids)
        try:
            window = self._pipeline.flush()
        except AlreadyConsumed as exc:
            lost = [i for i in ids if i in exc.ids]
            logger.info("{}; the other {:,} go back to the broker", exc, len(ids) - len(lost))
            self.stats.duplicates += len(lost)
            if consumer is not None:
                self._ack(consumer, lost)
                self._release(consumer, [i for i in ids if i not in exc.ids])
            return
        except StoreError as exc:
            self.stats.store_errors += 1
            logger.warning("window not stored, its {:,} message(s) go back: {}", len(ids), exc)
            if consumer is not None:
                self._release(consumer, list(ids))
            return
        finally:
            self._consumption = None
        if window.reason != "empty":
            self.stats.windows += 1
        self.stats.stored += len(ids)
        if consumer is not None:
            self._ack(consumer, list(ids))

    # -- broker and store troubles -------------------------------------------------------

    def _ack(self, consumer: Consumer, ids: list[str]) -> None:
        try:
            consumer.ack(ids)
        except BrokerError as exc:
            # Stored: a redelivery is dropped by the ledger, so this costs nothing but time.
            logger.warning("acknowledgement of {:,} stored message(s) lost: {}", len(ids), exc)

    def _release(self, consumer: Consumer, ids: list[str]) -> None:
        if not ids:
            return
        self.stats.released += len(ids)
        try:
            consumer.release(ids)
        except BrokerError as exc:
            logger.info("{:,} message(s) come back after ack_wait instead: {}", len(ids), exc)

    def _broker_failed(self, exc: BrokerError) -> float:
        delay = self._backoff.next()
        self.stats.broker_errors += 1
        self.stats.broker_down = str(exc)
        logger.warning("{}; retrying in {:.0f} s", exc, delay)
        return delay

    def _broker_answered(self) -> None:
        if self.stats.broker_down is not None:
            logger.warning("broker answers again")
            self._backoff.reset()
        self.stats.broker_down = None
        self.stats.connected = True

    def _store_failed(self, consumer: Consumer, ids: list[str], exc: StoreError) -> float:
        self.stats.store_errors += 1
        delay = self._backoff.next()
        logger.warning(
            "store: {}; {:,} message(s) go back; retrying in {:.0f} s", exc, len(ids), delay
        )
        self._release(consumer, ids)
        return delay

    def _pipeline_store(self) -> Store:
        store = self._pipeline.store
        if store is None:
            raise StoreError("aiops consume needs the store (the ledger and the shared miner)")
        return store
