"""One HTTP POST of a JSON body, retried on 429, 5xx and lost connections; never raises.

Only the standard library: notifications must work from a bare install, and the timeout, retry
and proxy behaviour stay explicit. Every outcome is a :class:`Delivery` whose ``error`` is one
line fit for a warning. The URL is never part of a message (its path is often the token); the
caller names the target instead.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiops_copilot import __version__

#: Worth another try: the receiver is busy or briefly broken (RFC 9110, RFC 6585).
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = f"aiops-copilot/{__version__}"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; a ``Retry-After`` from the receiver wins, capped."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap)
        delay = self.base * 2.0 ** (attempt - 1) * (1.0 + random.uniform(0.0, self.jitter))
        return min(delay, self.cap)


@dataclass(frozen=True)
class Delivery:
    """What became of one message: the last HTTP status (``None``: no answer) and why not."""

    ok: bool
    status: int | None
    attempts: int
    error: str | None = None


class _Retry(Exception):
    def __init__(self, message: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _Fatal(Exception):
    """A failure another try will not fix (4xx, a malformed URL)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` is delta-seconds or an HTTP date; ``None`` when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Poster:
    """POSTs JSON to one URL with a timeout and bounded retries."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        # A receiver on this machine is never reached through a proxy from the environment.
        handlers: list[urllib.request.BaseHandler] = []
        if is_loopback(url):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def post(self, body: Any) -> Delivery:
        """Send ``body`` as JSON; retried on 408/425/429/5xx, refused and timed-out connections."""
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        last: _Retry | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                status = self._once(data)
            except _Retry as exc:
                last = exc
                if attempt < self.attempts:
                    self._sleep(self.backoff.delay(attempt, exc.retry_after))
                continue
            except _Fatal as exc:
                return Delivery(False, exc.status, attempt, str(exc))
            return Delivery(True, status, attempt)
        assert last is not None
        suffix = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return Delivery(False, last.status, self.attempts, f"{last}{suffix}")

    def _once(self, data: bytes) -> int:
        request = urllib.request.Request(self.url, data=data, method="POST", headers=self.headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(65536)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            detail = _one_line(exc.read(2048).decode("utf-8", "replace")) if exc.fp else ""
            message = f"HTTP {exc.code}" + (f": {detail}" if detail else "")
            if exc.code in RETRYABLE:
                retry_after = parse_retry_after(exc.headers.get("Retry-After"))
                raise _Retry(message, exc.code, retry_after) from None
            raise _Fatal(message, exc.code) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retry(f"no answer within {self.timeout:g}s", None, None) from None
            raise _Retry(f"unreachable: {_one_line(str(exc.reason))}", None, None) from None
        except TimeoutError:
            raise _Retry(f"no answer within {self.timeout:g}s", None, None) from None
        except http.client.InvalidURL as exc:
            raise _Fatal(f"bad URL: {_one_line(str(exc).split(':')[0])}", None) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = _one_line(str(exc)) or type(exc).__name__
            raise _Retry(f"connection failed: {reason}", None, None) from None
        except ValueError as exc:  # a URL urllib cannot use ("unknown url type")
            raise _Fatal(f"bad URL: {_one_line(str(exc).split(':')[0])}", None) from None
