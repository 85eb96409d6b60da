"""Redis Streams: a consumer group read with XREADGROUP, dead consumers' entries taken over.

``redis://HOST:PORT/STREAM`` (``?db=N``; ``rediss://`` for TLS). The group is created on
the stream if it is not there (``XGROUP CREATE ... 0 MKSTREAM``: a new group starts at the
stream's first entry). Each fetch, in this order:

1. entries this consumer released (its window was not stored) are claimed back at once
   (``XCLAIM`` with no idle time) and delivered again;
2. entries pending in the group for longer than ``ack_wait`` — delivered to a consumer that
   died, or that is stuck — are taken over with ``XAUTOCLAIM`` (a full pass over the pending
   list at most every quarter of ``ack_wait``);
3. new entries: ``XREADGROUP ... >``, blocking up to the fetch's timeout.

:meth:`ack` is ``XACK``. An entry's id (``1700000000000-0``) is unique in the stream: the ledger
source is ``redis:STREAM``. Payload: an entry with one field is that field's value (a log
line, or a JSON document); an entry with several fields is those fields as a JSON object,
which the decoder reads like any structured record.

redis-py reconnects by itself on the next command after a failure; every Redis error is one
:class:`~aiops_copilot.stream.broker.BrokerError` line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis
import redis.exceptions
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from aiops_copilot.stream.broker import BrokerError, ConsumerOptions, Message
from aiops_copilot.stream.urls import BrokerURL

#: Ids per XACK / XCLAIM.
_CHUNK = 1000
#: Longest a fetch blocks, whatever it is asked (the socket timeout must outlast it).
_MAX_BLOCK = 30.0


class RedisStreamConsumer:
    """One member of a consumer group on a Redis stream (see the module's notes)."""

    def __init__(self, url: BrokerURL, options: ConsumerOptions) -> None:
        self._url = url
        self._key = url.name
        self._group = options.group
        self._name = options.consumer
        self._idle_ms = max(1, int(options.ack_wait * 1000))
        self.source = f"redis:{url.name}"
        host, port = url.hosts[0]
        self._client = redis.Redis(
            host=host,
            port=port,
            db=int(url.options.get("db", "0")),
            username=url.username,
            password=url.password,
            ssl=url.scheme == "rediss",
            socket_connect_timeout=options.timeout,
            socket_timeout=options.timeout + _MAX_BLOCK,
            protocol=2,
            # One quick retry (a dropped idle connection); the worker backs off beyond that.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), 1),
        )
        self._released: list[str] = []
        self._claim_from = "0-0"
        self._next_claim = 0.0
        self._call(self._create_group)

    # -- the protocol --------------------------------------------------------------------

    def fetch(self, batch: int, timeout: float) -> list[Message]:
        if self._released:
            ids: list[Any] = self._released[:batch]
            self._released = self._released[batch:]
            claimed = self._call(
                lambda: self._client.xclaim(self._key, self._group, self._name, 0, ids)
            )
            if claimed:
                return _messages(claimed)
        if time.monotonic() >= self._next_claim:
            taken = self._take_over(batch)
            if taken:
                return taken
        block = max(1, int(min(timeout, _MAX_BLOCK) * 1000))
        reply = self._call(
            lambda: self._client.xreadgroup(
                self._group, self._name, {self._key: ">"}, count=batch, block=block
            )
        )
        if not reply:
            return []
        return _messages(reply[0][1], redelivered=False)  # ">": never delivered to the group

    def ack(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            self._call(lambda chunk=chunk: self._client.xack(self._key, self._group, *chunk))

    def release(self, ids: Sequence[str]) -> None:
        self._released.extend(ids)

    def close(self) -> None:
        """Leave the group: this consumer's name is removed when nothing is pending on it
        (what is pending stays, for another consumer to take over)."""
        try:
            for info in self._client.xinfo_consumers(self._key, self._group):
                name = _text(info.get("name"))
                if name == self._name and int(info.get("pending", 0)) == 0:
                    self._client.xgroup_delconsumer(self._key, self._group, self._name)
        except redis.exceptions.RedisError:
            pass
        finally:
            self._client.close()

    # -- plumbing ------------------------------------------------------------------------

    def _create_group(self) -> None:
        try:
            self._client.xgroup_create(self._key, self._group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _take_over(self, batch: int) -> list[Message]:
        """Entries idle longer than ``ack_wait`` in the group, now this consumer's."""
        reply = self._call(
            lambda: self._client.xautoclaim(
                self._key, self._group, self._name, self._idle_ms, self._claim_from, count=batch
            )
        )
        cursor, entries = _text(reply[0]), reply[1]
        if cursor == "0-0":  # a full pass: rest a while before the next
            self._next_claim = time.monotonic() + self._idle_ms / 4000
        self._claim_from = cursor
        return _messages(entries)

    def _call(self, command: Any) -> Any:
        """Run a command; a group that vanished (the stream was deleted) is made again once."""
        try:
            try:
                return command()
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._create_group()
                return command()
        except redis.exceptions.RedisError as exc:
            raise BrokerError(f"{self._url.shown}: {_describe(exc)}") from None


def _messages(entries: list[Any], *, redelivered: bool = True) -> list[Message]:
    out = []
    for entry_id, fields in entries:
        if fields is None:  # deleted from the stream while pending: nothing to read
            continue
        out.append(Message(_text(entry_id), _payload(fields), redelivered=redelivered))
    return out


def _payload(fields: dict[bytes, bytes]) -> bytes:
    if len(fields) == 1:
        return next(iter(fields.values()))
    document = {_text(key): _text(value) for key, value in fields.items()}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, redis.exceptions.ConnectionError):
        return "cannot connect (is redis-server running there?)"
    if isinstance(exc, redis.exceptions.TimeoutError):
        return "no answer in time"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
