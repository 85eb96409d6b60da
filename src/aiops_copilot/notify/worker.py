"""One target's delivery thread: a bounded queue, a token bucket, and a summary of the excess.

Why one thread per target: a receiver that hangs or answers 503 for a minute delays only its
own messages, never another target's, and never the pipeline that produced them (``offer``
only ever puts into a bounded queue without waiting). What the rate limit holds back is kept
as a short list plus a count, and goes out as one "N more incidents" message when the bucket
allows (or when the notifier closes); nothing queues without bound.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiops_copilot.notify.dedup import Key
from aiops_copilot.notify.delivery import Delivery, Poster
from aiops_copilot.notify.events import Event
from aiops_copilot.notify.payloads import incident_body, summary_body
from aiops_copilot.notify.ratelimit import TokenBucket
from aiops_copilot.notify.targets import Target

#: Held-back incidents listed by name in the summary; beyond this they are only counted.
HELD_LIMIT = 50
#: Their de-duplication keys, released if the summary fails (bounded like everything here).
HELD_KEYS = 10_000
IDLE_POLL = 1.0


@dataclass
class TargetStats:
    """Counters for one target (for ``-v`` logs and metrics)."""

    sent: int = 0
    failed: int = 0
    rate_limited: int = 0
    summaries: int = 0
    dropped: int = 0
    last_status: int | None = None


@dataclass(frozen=True)
class Job:
    event: Event
    key: Key | None = None


@dataclass
class _Held:
    events: list[Event] = field(default_factory=list)
    more: int = 0
    keys: list[Key] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events) or self.more > 0


class TargetWorker:
    """Delivers one target's messages on a daemon thread."""

    def __init__(
        self,
        target: Target,
        poster: Poster,
        bucket: TokenBucket,
        *,
        hold: timedelta,
        queue_size: int,
        warn: Callable[[str], None],
        release: Callable[[Key], None],
    ) -> None:
        self.target = target
        self.stats = TargetStats()
        self._poster = poster
        self._bucket = bucket
        self._hold = hold
        self._warn = warn
        self._release = release
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=queue_size)
        self._held = _Held()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._full_warned = False
        self._thread = threading.Thread(
            target=self._run, name=f"aiops-notify-{target.name}", daemon=True
        )
        self._thread.start()

    # -- producer side (any thread) -------------------------------------------------------------
    def offer(self, job: Job) -> str:
        """``queued``, ``limited`` (held for the summary) or ``dropped`` (queue full)."""
        if not self._bucket.try_take():
            with self._lock:
                self.stats.rate_limited += 1
                if len(self._held.events) < HELD_LIMIT:
                    self._held.events.append(job.event)
                else:
                    self._held.more += 1
                if job.key is not None and len(self._held.keys) < HELD_KEYS:
                    self._held.keys.append(job.key)
            return "limited"
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
                first = not self._full_warned
                self._full_warned = True
            if first:
                self._warn(f"{self.target.shown}: queue full, dropping notifications")
            if job.key is not None:
                self._release(job.key)
            return "dropped"
        return "queued"

    def close(self, deadline: float) -> int:
        """Stop after the queue and any summary are sent, or at ``deadline`` (monotonic);
        how many queued messages were still unsent then."""
        self._stopping.set()
        with contextlib.suppress(queue.Full):  # wake the thread; it checks the flag anyway
            self._queue.put_nowait(None)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if not self._thread.is_alive():
            return 0
        return sum(1 for job in list(self._queue.queue) if job is not None)

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                holding = bool(self._held)
            wait = min(IDLE_POLL, max(0.05, self._bucket.wait_time())) if holding else IDLE_POLL
            if self._stopping.is_set():
                wait = 0.01
            try:
                job = self._queue.get(timeout=wait)
            except queue.Empty:
                job = None
            if job is not None:
                self._deliver(job)
            stopping = self._stopping.is_set()
            if holding and (stopping or self._bucket.try_take()):
                self._send_summary()
            if stopping and self._queue.empty():
                with self._lock:
                    done = not self._held
                if done:
                    return

    def _deliver(self, job: Job) -> None:
        event = job.event
        try:
            body = incident_body(self.target.kind, event, self._hold)
            result = self._poster.post(body)
        except Exception as exc:  # a formatting bug must cost one message, not the thread
            result = Delivery(False, None, 0, f"{type(exc).__name__}: {exc}")
        self._count(result)
        if not result.ok:
            if job.key is not None:
                self._release(job.key)
            self._warn(
                f"{self.target.shown}: {event.incident.id} ({event.change}) not delivered: "
                f"{result.error}"
            )

    def _send_summary(self) -> None:
        with self._lock:
            held, self._held = self._held, _Held()
        try:
            body = summary_body(self.target.kind, held.events, held.more, self._hold)
            result = self._poster.post(body)
        except Exception as exc:
            result = Delivery(False, None, 0, f"{type(exc).__name__}: {exc}")
        self._count(result, summary=True)
        if result.ok:
            return
        for key in held.keys:  # not delivered after all: a later sighting may try again
            self._release(key)
        total = len(held.events) + held.more
        self._warn(
            f"{self.target.shown}: summary of {total} held incident(s) not delivered: "
            f"{result.error}"
        )

    def _count(self, result: Delivery, *, summary: bool = False) -> None:
        with self._lock:
            self.stats.last_status = result.status
            if result.ok:
                self.stats.sent += 1
                self.stats.summaries += summary
            else:
                self.stats.failed += 1
