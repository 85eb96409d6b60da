"""The consume loop's promises, with real Redis streams and a real SQLite store, consumers
in threads of this process: a message stored but never acknowledged (the consumer died in
between) is acknowledged when it comes back, not counted again; a window whose messages
another consumer stored first is rolled back, and what it lost is not counted twice.

The "died before acknowledging" consumer is the real Redis consumer with its ``ack`` cut
off: nothing else stands in for anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.live.pipeline import LivePipeline
from aiops_copilot.store.schema import ConsumedMessage, Run, TemplateCountRow
from aiops_copilot.store.sql import Store
from aiops_copilot.stream.assemble import assemble
from aiops_copilot.stream.broker import ConsumerOptions
from aiops_copilot.stream.redis_streams import RedisStreamConsumer
from aiops_copilot.stream.urls import parse_broker_url
from aiops_copilot.stream.worker import StreamWorker, WorkerLimits

from .conftest import RedisStream, pg_log


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge([])


class Built:
    """Workers made for a test, closed at its end."""

    def __init__(self, stream: RedisStream, db: Path, kb: KnowledgeBase) -> None:
        self.stream, self.db, self.kb = stream, db, kb
        self.made: list[tuple[StreamWorker, LivePipeline]] = []

    def worker(
        self, name: str, *, window: float = 1.0, ack_wait: float = 1.0, **limits: object
    ) -> StreamWorker:
        settings = Settings(
            store=StoreSettings(url=str(self.db)), memory=MemorySettings(enabled=False)
        )
        options = ConsumerOptions(group="g", name=name, ack_wait=ack_wait, timeout=5)
        built = assemble(
            settings,
            parse_broker_url(self.stream.url),
            options,
            WorkerLimits(batch=50, poll=0.2, **limits),  # type: ignore[arg-type]
            kb=self.kb,
            window=window,
        )
        self.made.append(built)
        return built[0]

    def close(self) -> None:
        for worker, pipeline in self.made:
            worker.close()
            pipeline.close()


@pytest.fixture
def built(redis_stream: RedisStream, tmp_path: Path, kb: KnowledgeBase) -> Iterator[Built]:
    made = Built(redis_stream, tmp_path / "store.db", kb)
    yield made
    made.close()


def counted(db: Path) -> tuple[int, int]:
    """(records counted in stored template counts, ledger rows)."""
    with Store(db) as store, store.engine.connect() as connection:
        records = connection.scalar(select(func.coalesce(func.sum(TemplateCountRow.count), 0)))
        ledger = connection.scalar(select(func.count()).select_from(ConsumedMessage))
        runs = connection.scalar(select(func.coalesce(func.sum(Run.records), 0)))
    assert records == runs
    return int(records or 0), int(ledger or 0)


class DiesBeforeAcking(RedisStreamConsumer):
    """The real consumer of a process that dies after its window was stored and before it
    acknowledged: the acknowledgement never reaches Redis."""

    def ack(self, ids: Sequence[str]) -> None:
        return None


def test_stored_but_unacknowledged_messages_are_not_counted_again(built: Built) -> None:
    built.stream.publish(pg_log(200))
    dying = built.worker("dying", exit_after_idle=0.5)
    url = parse_broker_url(built.stream.url)
    dying._connect = lambda: DiesBeforeAcking(url, ConsumerOptions("g", "dying", 1.0, 5))
    first = dying.run(threading.Event())
    assert first.stored == 200 and counted(built.db) == (200, 200)
    assert built.stream.pending("g") == 200  # stored, never acknowledged
    time.sleep(1.1)  # ack_wait: the messages are delivered again
    heir = built.worker("heir", exit_after_idle=1.5)
    second = heir.run(threading.Event())
    assert (second.fetched, second.duplicates, second.stored) == (200, 200, 0)
    assert counted(built.db) == (200, 200)
    assert built.stream.pending("g") == 0


def test_a_window_whose_messages_another_consumer_stored_first_is_given_back(
    built: Built,
) -> None:
    """A holds 120 messages in a long window; B takes them over after its ack_wait and
    stores 60 (its limit); A's window then loses those 60 to the ledger, acknowledges them,
    gives the other 60 back; C takes them over and stores them. Each record counted once.
    (A's own ack_wait is long, so it does not claim its messages back from B meanwhile.)"""
    built.stream.publish(pg_log(120))
    slow = built.worker("slow", window=3600, ack_wait=3600)
    stop = threading.Event()
    held = threading.Thread(target=slow.run, args=(stop,))
    held.start()
    try:
        deadline = time.monotonic() + 20
        while slow.stats.fetched < 120 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.stats.fetched == 120 and slow.stats.stored == 0
        time.sleep(1.1)  # A's messages are now past ack_wait
        second = built.worker("second", max_messages=60)
        assert second.run(threading.Event()).stored == 60
    finally:
        stop.set()
        held.join(timeout=30)
    assert (slow.stats.stored, slow.stats.duplicates, slow.stats.released) == (0, 60, 60)
    assert counted(built.db) == (60, 60)
    third = built.worker("third", exit_after_idle=1.5)
    assert third.run(threading.Event()).stored == 60
    assert counted(built.db) == (120, 120)
    assert built.stream.pending("g") == 0
