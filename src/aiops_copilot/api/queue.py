"""The bounded ingest queue between the HTTP handlers and the live pipeline.

Handlers only decode and *offer* a request's records; one worker thread feeds them to the
pipeline, closes windows when they are due, and runs flushes. One thread owns the pipeline,
so the miner and the window buffer need no locking and a flush sees every record accepted
before it.

Bounded and honest: a request is taken whole or not at all. It is taken while fewer than
``capacity`` records wait (so the queue holds at most ``capacity`` plus one request, itself
bounded by the body limit); otherwise the caller answers 429 with ``Retry-After``, an
estimate from the worker's measured drain rate. Nothing accepted is ever dropped: on
shutdown the worker drains what waits before the pipeline's final flush.

Accepted records are numbered per source after the lines that source sent before, so
evidence cites ``source:line`` like a file's.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from loguru import logger

from aiops_copilot.api.decode.common import Batch
from aiops_copilot.models import LogRecord

#: Seconds the worker sleeps when idle before checking whether a window is due.
IDLE_SECONDS = 0.5
MAX_RETRY_AFTER = 60


class Sink(Protocol):
    """What the worker feeds: :class:`aiops_copilot.live.pipeline.LivePipeline`."""

    def feed(self, records: Iterable[LogRecord]) -> int: ...

    def flush(self) -> Any: ...

    def maybe_flush(self, now: float | None = None) -> Any: ...

    def close(self) -> None: ...


class _Flush:
    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: Future[Any] = Future()


class IngestQueue:
    """Records accepted from any endpoint, fed to ``sink`` by one worker thread."""

    def __init__(
        self,
        sink: Sink,
        capacity: int,
        *,
        max_sources: int = 10_000,
    ) -> None:
        self.sink = sink
        self.capacity = max(1, capacity)
        self.max_sources = max_sources
        self._items: deque[list[LogRecord] | _Flush] = deque()
        self._cond = threading.Condition()
        self._lines: OrderedDict[str, int] = OrderedDict()
        self._depth = 0
        self._rate = 50_000.0  # records/s, refined from measurements
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.processed = 0
        self.failed = 0

    # -- the handlers' side ----------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Records accepted and not yet fed to the pipeline."""
        return self._depth

    def offer(self, batches: Sequence[Batch]) -> bool:
        """Take every record of ``batches``, or none (False: the queue is full)."""
        count = sum(len(b.records) for b in batches)
        if count == 0:
            return True
        with self._cond:
            if self._stopping or self._depth >= self.capacity:
                return False
            self._take(batches, count)
            return True

    def offer_wait(self, batches: Sequence[Batch], timeout: float) -> bool:
        """Like :meth:`offer`, waiting up to ``timeout`` seconds for room (for receivers
        such as syslog that cannot answer 429)."""
        count = sum(len(b.records) for b in batches)
        if count == 0:
            return True
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._stopping and self._depth >= self.capacity:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            if self._stopping:
                return False
            self._take(batches, count)
            return True

    def retry_after(self) -> int:
        """Whole seconds until the queue has likely drained (1..60)."""
        seconds = self._depth / max(self._rate, 1.0)
        return max(1, min(MAX_RETRY_AFTER, math.ceil(seconds)))

    def flush(self, timeout: float | None = None) -> Any:
        """Feed everything accepted so far, analyse the window now, return its result."""
        request = _Flush()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the server is shutting down")
            self._items.append(request)
            self._cond.notify_all()
        return request.future.result(timeout)

    def _take(self, batches: Sequence[Batch], count: int) -> None:
        records: list[LogRecord] = []
        for batch in batches:
            start = self._lines.pop(batch.source, 0)
            self._lines[batch.source] = start + batch.lines
            if start:
                for record in batch.records:
                    record.line_no += start
                    record.end_line += start
            records.extend(batch.records)
        while len(self._lines) > self.max_sources:
            self._lines.popitem(last=False)
        self._items.append(records)
        self._depth += count
        self._cond.notify_all()

    # -- the worker ------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aiops-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop taking records, feed what waits, let the pipeline close (its last window)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._items and not self._stopping:
                    self._cond.wait(IDLE_SECONDS)
                item = self._items.popleft() if self._items else None
                if item is None and self._stopping:
                    break
            if item is None:
                self._window(self.sink.maybe_flush)
            elif isinstance(item, _Flush):
                self._run_flush(item)
            else:
                self._feed(item)
        self._window(self.sink.close)

    def _feed(self, records: list[LogRecord]) -> None:
        started = time.perf_counter()
        try:
            self.sink.feed(records)
        except Exception as exc:  # the worker must outlive a pipeline bug
            self.failed += len(records)
            logger.opt(exception=exc).error("live pipeline failed on {} records", len(records))
        elapsed = time.perf_counter() - started
        if elapsed > 0:
            self._rate = 0.8 * self._rate + 0.2 * (len(records) / elapsed)
        with self._cond:
            self._depth -= len(records)
            self.processed += len(records)
            self._cond.notify_all()
        self._window(self.sink.maybe_flush)

    def _run_flush(self, request: _Flush) -> None:
        try:
            request.future.set_result(self.sink.flush())
        except Exception as exc:
            logger.opt(exception=exc).error("live pipeline flush failed")
            request.future.set_exception(exc)

    def _window(self, action: Callable[[], Any]) -> None:
        """Close a window when due (or the pipeline, at the end); a failure is logged and
        the worker goes on with the next records."""
        try:
            action()
        except Exception as exc:
            logger.opt(exception=exc).error("live pipeline window failed")
