"""NATS JetStream: a durable pull consumer per consumer group.

``nats://HOST:PORT/SUBJECT``: the stream is the one whose subjects take SUBJECT (or
``?stream=NAME``); the group is a durable pull consumer of that stream, filtered to SUBJECT,
with explicit acknowledgement, ``ack_wait`` as the visibility timeout, no limit on messages
pending acknowledgement (a window holds its messages until it is stored) and delivery from
the stream's first message when the group is new. Every consumer of the group pulls from the
same durable, so the server shares the messages out; one that is not acknowledged in time is
delivered again to whoever pulls next. A message's id is its stream sequence number, unique in
the stream, so the ledger source is ``nats:STREAM``.

nats-py is asyncio-only: the client lives on an event loop in a daemon thread and each call
here waits for its coroutine, with a timeout. Acknowledgements are published to the reply
subject each delivery came with, then flushed (a round trip: the server has them when
:meth:`ack` returns). The connection does not reconnect by itself: after a failure the next
call opens a new one, and the reply subjects kept here still acknowledge the messages
delivered on the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from loguru import logger
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from aiops_copilot.stream.broker import BrokerError, ConsumerOptions, Message
from aiops_copilot.stream.urls import BrokerURL

T = TypeVar("T")
#: Seconds added to a call's own wait before it is given up.
_SLACK = 5.0


class JetStreamConsumer:
    """One member of a consumer group on a JetStream stream (see the module's notes)."""

    def __init__(self, url: BrokerURL, options: ConsumerOptions) -> None:
        self._url = url
        self._options = options
        self._subject = url.name
        self._stream = url.options.get("stream") or ""
        self.source = f"nats:{self._stream}" if self._stream else f"nats:{url.name}"
        #: Message id -> the reply subject of its latest delivery (acknowledged there).
        self._replies: dict[str, str] = {}
        self._nc: Any = None
        self._sub: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="aiops-nats", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._connected(), options.timeout)
        except BaseException:
            self.close()
            raise

    # -- the protocol --------------------------------------------------------------------

    def fetch(self, batch: int, timeout: float) -> list[Message]:
        return self._call(self._fetch(batch, timeout), timeout)

    def ack(self, ids: Sequence[str]) -> None:
        if ids:
            self._call(self._reply(ids, b"+ACK"), self._options.timeout)

    def release(self, ids: Sequence[str]) -> None:
        if ids:
            self._call(self._reply(ids, b"-NAK"), self._options.timeout)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self._nc is not None:
            with contextlib.suppress(BrokerError):
                self._call(self._nc.close(), self._options.timeout)
            self._nc = None
        with contextlib.suppress(BrokerError):
            self._call(_cancel_pending(), self._options.timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=self._options.timeout)
        if not self._thread.is_alive():
            self._loop.close()

    # -- on the loop ---------------------------------------------------------------------

    async def _connected(self) -> None:
        """Connect (again) when there is no open connection, and bind to the durable."""
        if self._nc is not None and not self._nc.is_closed:
            return
        self._nc = self._sub = None
        options = self._options
        nc = await nats.connect(
            servers=[self._url.server],
            name=f"aiops-consume {options.consumer}",
            connect_timeout=max(1, round(options.timeout)),
            allow_reconnect=False,
            # Two attempts at connecting, then an error (0 would mean "for ever" to nats-py).
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=_quiet,
            disconnected_cb=_nothing,
            closed_cb=_nothing,
        )
        try:
            js = nc.jetstream(timeout=options.timeout)
            stream = self._stream or await self._find_stream(js)
            config = ConsumerConfig(
                name=options.group,
                durable_name=options.group,
                filter_subject=self._subject,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=options.ack_wait,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=-1,
                max_deliver=-1,
            )
            try:
                await js.add_consumer(stream, config=config)
            except nats.js.errors.BadRequestError as exc:
                # The group exists with other settings (another ack_wait): join it as it is.
                logger.info("nats: consumer group {} kept as it is: {}", options.group, exc)
            self._sub = await js.pull_subscribe_bind(durable=options.group, stream=stream)
        except BaseException:
            await nc.close()
            raise
        self._stream = stream
        self.source = f"nats:{stream}"
        self._nc = nc

    async def _find_stream(self, js: Any) -> str:
        try:
            name: str = await js.find_stream_name_by_subject(self._subject)
        except nats.js.errors.NotFoundError:
            raise BrokerError(
                f"{self._url.shown}: no JetStream stream takes subject {self._subject!r} "
                "(create one, or name it with ?stream=NAME)"
            ) from None
        return name

    async def _fetch(self, batch: int, timeout: float) -> list[Message]:
        await self._connected()
        try:
            delivered = await self._sub.fetch(batch, timeout=max(timeout, 0.01))
        except TimeoutError:  # nats' own, or asyncio's from inside fetch: nothing came
            return []
        messages = []
        for msg in delivered:
            sequence = str(msg.metadata.sequence.stream)
            self._replies[sequence] = msg.reply
            again = msg.metadata.num_delivered > 1
            messages.append(Message(sequence, msg.data, redelivered=again))
        return messages

    async def _reply(self, ids: Sequence[str], verdict: bytes) -> None:
        await self._connected()
        for message_id in ids:
            reply = self._replies.pop(message_id, None)
            if reply:
                await self._nc.publish(reply, verdict)
        await self._nc.flush(timeout=self._options.timeout)

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], wait: float) -> T:
        """Run ``coro`` on the loop and wait for it; every failure is one BrokerError line.

        ``concurrent.futures.TimeoutError`` and asyncio's are both the builtin TimeoutError:
        whether the wait here ran out or the coroutine itself timed out is told by whether
        the future is done."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(wait + _SLACK)
        except BrokerError:
            raise
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            if isinstance(exc, TimeoutError) and not future.done():
                future.cancel()
                raise BrokerError(
                    f"{self._url.shown}: no answer within {wait + _SLACK:.0f} s"
                ) from None
            self._drop()
            raise BrokerError(f"{self._url.shown}: {_describe(exc)}") from None

    def _drop(self) -> None:
        """Forget a connection that failed; the next call opens a new one."""
        nc, self._nc, self._sub = self._nc, None, None
        if nc is not None and not nc.is_closed:
            asyncio.run_coroutine_threadsafe(nc.close(), self._loop)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, nats.errors.NoServersError | ConnectionRefusedError):
        return "cannot connect (is nats-server running, with JetStream: -js?)"
    if isinstance(exc, nats.js.errors.ServiceUnavailableError):
        return "JetStream is not enabled on this server (start nats-server with -js)"
    return text.splitlines()[0]


async def _cancel_pending() -> None:
    """Cancel what is left on the loop (a connection attempt given up) before it stops."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _quiet(exc: Exception) -> None:
    logger.debug("nats: {}", exc)


async def _nothing() -> None:
    return None
