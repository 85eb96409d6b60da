"""One consumer protocol over NATS JetStream, Redis Streams and Kafka.

What a consumer of a group must do, whatever the broker:

* :meth:`Consumer.fetch` up to ``batch`` messages, waiting at most ``timeout`` seconds; the
  group shares the load (each message goes to one consumer at a time);
* :meth:`Consumer.ack` once the messages' records are stored, never before: a message that is
  not acknowledged within the visibility timeout (``ack_wait``) is delivered again, to
  whichever consumer of the group asks next (this is how a crashed consumer's messages are
  taken over);
* :meth:`Consumer.release` messages it will not store now (their window was not stored), so
  they come back without waiting for the timeout.

How each broker does it: JetStream, a durable pull consumer named after the group with
``AckExplicit`` and ``ack_wait``, ``nak`` to release (``jetstream.py``); Redis Streams,
``XREADGROUP`` plus ``XAUTOCLAIM`` of entries pending longer than the timeout, ``XACK``
(``redis_streams.py``); Kafka, the group's partitions, offsets committed after the store in
order, a seek back to release (``kafka.py``).

Every broker failure is a :class:`BrokerError` with one line saying what and where; the
worker retries with a back-off. A missing client library is a :class:`MissingExtra`, which
names the extra to install and is not retried.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol

from aiops_copilot.stream.urls import BrokerURL


@dataclass(frozen=True, slots=True)
class Message:
    """One delivered message: the broker's id for it and its payload."""

    id: str
    payload: bytes
    #: It may have been delivered before (so may be stored already). False only when the
    #: broker says this is the group's first delivery: the worker then skips the ledger
    #: look-up (the ledger's key still decides at store time).
    redelivered: bool = True


class BrokerError(Exception):
    """The broker cannot be reached, or refused what was asked (one line)."""


class MissingExtra(Exception):
    """The broker's client library is not installed (one line naming the extra)."""


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How a consumer joins its group."""

    #: The consumer group: consumers of one group share the stream's messages.
    group: str = "aiops"
    #: This consumer's name within the group (default: host and process id).
    name: str = ""
    #: Seconds a delivered message may stay unacknowledged before it is delivered again.
    ack_wait: float = 150.0
    #: Seconds to wait for the broker to answer a connection attempt or a request.
    timeout: float = 10.0

    @property
    def consumer(self) -> str:
        return self.name or default_consumer_name()


def default_consumer_name() -> str:
    """``host-pid``: unique among the consumers running at once."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Consumer(Protocol):
    """A member of a consumer group (see the module's notes)."""

    #: The stream as the ledger of consumed messages names it (``redis:logs``).
    source: str

    def fetch(self, batch: int, timeout: float) -> list[Message]:
        """Up to ``batch`` messages; an empty list when none came within ``timeout`` s."""
        ...

    def ack(self, ids: Sequence[str]) -> None:
        """The messages are stored: never deliver them again."""
        ...

    def release(self, ids: Sequence[str]) -> None:
        """The messages are not stored: deliver them again (to any consumer of the group)."""
        ...

    def close(self) -> None:
        """Leave the group; unacknowledged messages go back to it after ``ack_wait``."""
        ...


def client_for(url: BrokerURL) -> Callable[[BrokerURL, ConsumerOptions], Consumer]:
    """The consumer class for ``url``'s broker; MissingExtra, naming the extra to install,
    when its client library is not there (checked before any connection is tried)."""
    module, name, package, distribution, extra = _CLIENTS[url.broker]
    try:
        import_module(package)
    except ImportError:
        raise MissingExtra(
            f"{url.scheme}:// needs {distribution}: pip install 'aiops-copilot[{extra}]'"
        ) from None
    factory: Callable[[BrokerURL, ConsumerOptions], Consumer] = getattr(
        import_module(f"aiops_copilot.stream.{module}"), name
    )
    return factory


def open_consumer(url: BrokerURL, options: ConsumerOptions) -> Consumer:
    """A connected consumer for ``url``; BrokerError when the broker does not answer,
    MissingExtra when its client library is not installed."""
    return client_for(url)(url, options)


#: Broker -> (module here, class, the client's import name, its distribution, the extra).
_CLIENTS = {
    "nats": ("jetstream", "JetStreamConsumer", "nats", "nats-py", "nats"),
    "redis": ("redis_streams", "RedisStreamConsumer", "redis", "redis", "redis"),
    "kafka": ("kafka", "KafkaConsumer", "confluent_kafka", "confluent-kafka", "kafka"),
}
