"""The consumer protocol against real brokers (Redis Streams, NATS JetStream): a group shares
the messages, an unacknowledged message comes back after ``ack_wait`` to another consumer,
a released one comes back at once, an acknowledged one never; failures are one line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiops_copilot.stream.broker import (
    BrokerError,
    Consumer,
    ConsumerOptions,
    Message,
    open_consumer,
)
from aiops_copilot.stream.urls import parse_broker_url

from .conftest import NatsStream, RedisStream


@pytest.fixture(params=["redis", "nats"])
def stream(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_stream")


@pytest.fixture
def join(stream: RedisStream | NatsStream) -> Iterator[Callable[..., Consumer]]:
    opened: list[Consumer] = []

    def make(name: str, ack_wait: float = 30.0) -> Consumer:
        options = ConsumerOptions(group="workers", name=name, ack_wait=ack_wait, timeout=5)
        consumer = open_consumer(parse_broker_url(stream.url), options)
        opened.append(consumer)
        return consumer

    yield make
    for consumer in opened:
        consumer.close()


def drain(consumer: Consumer, *, want: int, seconds: float = 10.0) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        got += consumer.fetch(want - len(got), 0.5)
    return got


def test_a_group_shares_the_stream(stream: Any, join: Callable[..., Consumer]) -> None:
    stream.publish([f"line {n}" for n in range(30)])
    a, b = join("a"), join("b")
    first = a.fetch(10, 2)
    rest = drain(b, want=20)
    assert len(first) == 10 and len(rest) == 20
    assert {m.payload for m in first + rest} == {f"line {n}".encode() for n in range(30)}
    assert len({m.id for m in first + rest}) == 30
    a.ack([m.id for m in first])
    b.ack([m.id for m in rest])
    assert a.fetch(10, 0.3) == [] and b.fetch(10, 0.3) == []
    assert a.source == b.source and a.source.split(":")[0] in ("redis", "nats")


def test_unacknowledged_messages_go_to_another_consumer(
    stream: Any, join: Callable[..., Consumer]
) -> None:
    stream.publish([f"line {n}" for n in range(5)])
    dead = join("dead", ack_wait=1.0)
    held = dead.fetch(5, 2)
    assert len(held) == 5
    heir = join("heir", ack_wait=1.0)
    assert heir.fetch(5, 0.2) == []  # not before ack_wait
    time.sleep(1.05)
    again = drain(heir, want=5)
    assert sorted(m.id for m in again) == sorted(m.id for m in held)
    heir.ack([m.id for m in again])
    time.sleep(1.05)
    assert heir.fetch(5, 0.3) == [] and dead.fetch(5, 0.3) == []


def test_released_messages_come_back_at_once(stream: Any, join: Callable[..., Consumer]) -> None:
    stream.publish([f"line {n}" for n in range(4)])
    consumer = join("solo")
    first = drain(consumer, want=4)
    consumer.ack([first[0].id])
    consumer.release([m.id for m in first[1:]])
    again = drain(consumer, want=3, seconds=5)
    assert sorted(m.id for m in again) == sorted(m.id for m in first[1:])
    assert {m.payload for m in again} == {m.payload for m in first[1:]}


def test_an_unreachable_broker_is_one_line() -> None:
    for url in ("redis://127.0.0.1:1/logs", "nats://127.0.0.1:1/logs"):
        started = time.monotonic()
        with pytest.raises(BrokerError) as error:
            open_consumer(parse_broker_url(url), ConsumerOptions(timeout=2))
        assert "cannot connect" in str(error.value) and "\n" not in str(error.value)
        assert time.monotonic() - started < 15


def test_a_subject_no_stream_takes_is_named(nats_stream: NatsStream) -> None:
    url = parse_broker_url(nats_stream.url + ".nobody")
    with pytest.raises(BrokerError) as error:
        open_consumer(url, ConsumerOptions(timeout=5))
    assert "no JetStream stream takes subject" in str(error.value)


def test_a_redis_entry_with_several_fields_is_a_json_document(
    redis_stream: RedisStream,
) -> None:
    redis_stream.client.xadd(redis_stream.key, {"level": "error", "msg": "disk full"})
    consumer = open_consumer(parse_broker_url(redis_stream.url), ConsumerOptions(timeout=5))
    try:
        (message,) = drain(consumer, want=1)
    finally:
        consumer.close()
    assert message.payload == b'{"level": "error", "msg": "disk full"}'
