"""Kafka through confluent-kafka: the group's partitions, offsets committed after the store.

``kafka://HOST:PORT[,HOST:PORT...]/TOPIC`` (``kafka://user:pass@...`` for SASL/PLAIN). The
consumer group is Kafka's own (``group.id``): partitions are shared out among the group's
consumers, and a consumer that dies loses its partitions to the others after the session
timeout; they resume from the last committed offset, so what it had fetched but not
committed is read again (and dropped by the ledger when it was stored).

Kafka acknowledges by offset, not by message: committing offset N says "everything before
N is done". So :meth:`ack` commits, per partition, the oldest offset still unacknowledged
(or the next one when none is): a message acknowledged early (already in the ledger) never
lets an older one still waiting in a window be skipped after a crash. :meth:`release` seeks
the partition back to the oldest released offset. Auto-commit is off; ``ack_wait`` sets
``max.poll.interval.ms``, the longest a consumer may go between fetches.

No Kafka server runs where this was written: its test (tests/stream/test_kafka.py) runs only
with ``AIOPS_TEST_KAFKA=host:port``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer as _KafkaClient
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from aiops_copilot.stream.broker import BrokerError, ConsumerOptions, Message
from aiops_copilot.stream.urls import BrokerURL


class KafkaConsumer:
    """One member of a Kafka consumer group on one topic (see the module's notes)."""

    def __init__(self, url: BrokerURL, options: ConsumerOptions) -> None:
        self._url = url
        self._topic = url.name
        self._timeout = options.timeout
        self.source = f"kafka:{url.name}"
        config: dict[str, Any] = {
            "bootstrap.servers": ",".join(f"{host}:{port}" for host, port in url.hosts),
            "group.id": options.group,
            "client.id": options.consumer,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "max.poll.interval.ms": max(60_000, int(options.ack_wait * 1000)),
            "socket.timeout.ms": max(1000, int(options.timeout * 1000)),
        }
        if url.username:
            config.update(
                {
                    "security.protocol": "SASL_PLAINTEXT",
                    "sasl.mechanism": "PLAIN",
                    "sasl.username": url.username,
                    "sasl.password": url.password or "",
                }
            )
        # librdkafka logs to stderr by itself; its lines go to a silent logger instead.
        quiet = logging.getLogger("aiops_copilot.stream.kafka.librdkafka")
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
        self._client = _KafkaClient(config, logger=quiet)
        #: Partition -> offsets delivered and not yet acknowledged.
        self._pending: dict[int, set[int]] = {}
        #: Partition -> the offset after the newest delivered.
        self._next: dict[int, int] = {}
        try:
            self._check_topic()
            self._client.subscribe([self._topic], on_revoke=self._revoked)
        except BaseException:
            self._client.close()
            raise

    # -- the protocol --------------------------------------------------------------------

    def fetch(self, batch: int, timeout: float) -> list[Message]:
        try:
            delivered = self._client.consume(num_messages=batch, timeout=max(timeout, 0.01))
        except KafkaException as exc:
            raise BrokerError(f"{self._url.shown}: {_describe(exc)}") from None
        messages = []
        for item in delivered:
            error = item.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise BrokerError(f"{self._url.shown}: {error.str()}")
            partition, offset = item.partition(), item.offset()
            if partition is None or offset is None:
                continue
            self._pending.setdefault(partition, set()).add(offset)
            self._next[partition] = max(self._next.get(partition, 0), offset + 1)
            messages.append(Message(f"{partition}:{offset}", item.value() or b""))
        return messages

    def ack(self, ids: Sequence[str]) -> None:
        touched: set[int] = set()
        for partition, offset in _parsed(ids):
            self._pending.get(partition, set()).discard(offset)
            touched.add(partition)
        offsets = []
        for partition in sorted(touched):
            if partition not in self._next:
                continue  # revoked meanwhile: its new owner commits
            waiting = self._pending.get(partition)
            upto = min(waiting) if waiting else self._next[partition]
            offsets.append(TopicPartition(self._topic, partition, upto))
        if offsets:
            try:
                self._client.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                raise BrokerError(f"{self._url.shown}: commit failed: {_describe(exc)}") from None

    def release(self, ids: Sequence[str]) -> None:
        oldest: dict[int, int] = {}
        for partition, offset in _parsed(ids):
            oldest[partition] = min(offset, oldest.get(partition, offset))
        for partition, offset in sorted(oldest.items()):
            if partition not in self._next:
                continue
            waiting = self._pending.get(partition, set())
            self._pending[partition] = {o for o in waiting if o < offset}
            self._next[partition] = offset
            try:
                self._client.seek(TopicPartition(self._topic, partition, offset))
            except KafkaException as exc:
                raise BrokerError(f"{self._url.shown}: {_describe(exc)}") from None

    def close(self) -> None:
        with contextlib.suppress(KafkaException, RuntimeError):
            self._client.close()

    # -- plumbing ------------------------------------------------------------------------

    def _check_topic(self) -> None:
        """Fail fast, in one line, when no broker answers or the topic is not there."""
        try:
            metadata = self._client.list_topics(self._topic, timeout=self._timeout)
        except KafkaException as exc:
            raise BrokerError(f"{self._url.shown}: {_describe(exc)}") from None
        topic = metadata.topics.get(self._topic)
        if topic is None or topic.error is not None:
            reason = topic.error.str() if topic is not None and topic.error else "not found"
            raise BrokerError(f"{self._url.shown}: topic {self._topic!r}: {reason}")

    def _revoked(self, _client: Any, partitions: list[TopicPartition]) -> None:
        """Partitions given to another consumer: what was waiting here is theirs now."""
        for item in partitions:
            self._pending.pop(item.partition, None)
            self._next.pop(item.partition, None)


def _parsed(ids: Sequence[str]) -> list[tuple[int, int]]:
    out = []
    for message_id in ids:
        partition, _, offset = message_id.partition(":")
        out.append((int(partition), int(offset)))
    return out


def _describe(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    if isinstance(error, KafkaError):
        return str(error.str())
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
