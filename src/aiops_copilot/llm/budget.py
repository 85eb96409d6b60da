"""The request budget of one analysis: how many model requests, how many seconds, and the breaker.

Why one class for both engines: the built-in assistant and the CrewAI crew must stop sending
for the same reasons and say so in the same words (``summary.llm.stopped`` in the report), so
the rule lives here once. It is thread-safe because the assistant asks from several worker
threads, and it depends on nothing but the clock so a test can drive it with a fake one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RequestBudget"]

#: Seconds left below which no request is worth starting (it could not get an answer back).
_MIN_SECONDS = 0.05


class RequestBudget:
    """Requests and seconds left for one run, and the breaker; thread-safe.

    ``permit`` is what :meth:`~aiops_copilot.llm.gate.GatedProvider.send` calls just before a
    request leaves: the timeout to use, or ``None`` when nothing more may be sent. The first
    reason to stop (budget spent, or :meth:`trip` after a transport failure) sticks for the
    rest of the run, in :attr:`stopped`."""

    def __init__(
        self,
        *,
        timeout: float,
        seconds: float,
        requests: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.seconds = seconds
        self.max_requests = requests
        self._clock = clock
        self.deadline = clock() + seconds
        self.requests = 0
        self.stopped: str | None = None
        self._lock = threading.Lock()

    def permit(self) -> float | None:
        """The timeout for one more request (never past the deadline), or None when none may
        be sent; counts the request it permits."""
        with self._lock:
            if self.stopped is not None:
                return None
            if self.requests >= self.max_requests:
                self.stopped = f"budget exhausted ({self.max_requests} requests)"
                return None
            remaining = self.remaining()
            if remaining <= _MIN_SECONDS:
                self.stopped = f"budget exhausted ({self.seconds:g} s)"
                return None
            self.requests += 1
            return min(self.timeout, remaining)

    def trip(self, reason: str) -> bool:
        """Stop sending for the rest of the run; True only for the first reason (warn once)."""
        with self._lock:
            if self.stopped is not None:
                return False
            self.stopped = reason
            return True

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.deadline - self._clock()
