"""Kafka through the same consumer protocol, against a real broker: only with
``AIOPS_TEST_KAFKA=host:port`` (no Kafka server runs where this was written, so by default
these tests are skipped, saying why).

What they check: messages come with ``partition:offset`` ids; a consumer that leaves
without acknowledging leaves its messages to the next consumer of the group; released
messages come back; acknowledging a later message never commits past an earlier one still
waiting; and ``aiops consume``'s loop counts every message once."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.stream.assemble import assemble
from aiops_copilot.stream.broker import Consumer, ConsumerOptions, Message, open_consumer
from aiops_copilot.stream.urls import parse_broker_url
from aiops_copilot.stream.worker import WorkerLimits

from .conftest import pg_log

SERVER = os.environ.get("AIOPS_TEST_KAFKA")
pytestmark = pytest.mark.skipif(
    not SERVER, reason="no Kafka server here: set AIOPS_TEST_KAFKA=host:port to run these"
)


@pytest.fixture
def topic() -> Iterator[str]:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    name = f"aiops-test-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": SERVER})
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(30)
    producer = Producer({"bootstrap.servers": SERVER})
    for line in pg_log(200):
        producer.produce(name, line.encode())
    producer.flush(30)
    try:
        yield name
    finally:
        admin.delete_topics([name])[name].result(30)


def url_of(topic: str) -> str:
    return f"kafka://{SERVER}/{topic}"


def drain(consumer: Consumer, want: int, seconds: float = 30) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        got += consumer.fetch(want - len(got), 1.0)
    return got


def test_unacknowledged_messages_go_to_the_next_consumer(topic: str) -> None:
    options = ConsumerOptions(group="g", name="first", ack_wait=60, timeout=10)
    first = open_consumer(parse_broker_url(url_of(topic)), options)
    try:
        got = drain(first, 200)
        assert len(got) == 200 and all(":" in m.id for m in got)
        by_partition: dict[str, list[Message]] = {}
        for message in got:
            by_partition.setdefault(message.id.split(":")[0], []).append(message)
        # Acknowledge everything but the oldest message of each partition: nothing commits
        # past it, so all of every partition comes back.
        waiting = [items[0].id for items in by_partition.values()]
        first.ack([m.id for m in got if m.id not in waiting])
    finally:
        first.close()
    second = open_consumer(parse_broker_url(url_of(topic)), ConsumerOptions("g", "second", 60, 10))
    try:
        again = drain(second, 200)
        assert sorted(m.id for m in again) == sorted(m.id for m in got)
        second.release([again[-1].id])
        assert [m.id for m in drain(second, 1)] == [again[-1].id]
    finally:
        second.close()


def test_the_loop_counts_every_message_once(topic: str, tmp_path: Path) -> None:
    settings = Settings(
        store=StoreSettings(url=str(tmp_path / "s.db")), memory=MemorySettings(enabled=False)
    )
    worker, pipeline = assemble(
        settings,
        parse_broker_url(url_of(topic)),
        ConsumerOptions("loop", "one", 60, 10),
        WorkerLimits(batch=50, poll=0.5, exit_after_idle=5),
        window=1,
    )
    try:
        stats = worker.run(threading.Event())
    finally:
        worker.close()
        pipeline.close()
    assert stats.stored == 200 and stats.records == 200
