"""LLM providers behind one small interface: Ollama's native API and OpenAI-compatible servers.

Why this shape: the copilot must never depend on a model, so every failure mode (refused
connection, 429, 5xx, a hang, a garbage body) ends in a single ``ProviderError`` with a one-line
message the caller can print as a warning before carrying on without the model. Structured
output is requested through each server's native JSON-schema mode (Ollama ``format``, OpenAI
``response_format``), so answers are parsed, never scraped out of prose.

Only the standard library is used for HTTP: no new dependency, and the behaviour of timeouts
and proxies stays explicit. ``chat`` takes only a :class:`~aiops_copilot.llm.sealed.SealedRequest`
-- messages that have passed the redaction gate -- and refuses anything else before a socket is
opened, so no caller can send log text around the gate.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from aiops_copilot.llm.redact import Redactor
from aiops_copilot.llm.sealed import SealedRequest, UnsealedRequestError, seal

__all__ = [
    "CHECK_SCHEMA",
    "AnswerFormatError",
    "LlmSetupError",
    "OllamaProvider",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "ProviderStatus",
    "RetryPolicy",
]

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_TIMEOUT = 60.0
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

# The tiny request ``check()`` sends: cheap for any model, still exercises schema mode.
CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}
_CHECK_MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}
]


def check_request() -> SealedRequest:
    """The tiny ``check()`` request, sealed like any other (a constant, but no exceptions)."""
    return seal(Redactor(), _CHECK_MESSAGES, CHECK_SCHEMA)


class ProviderError(Exception):
    """Any provider failure, with a one-line message fit for a warning (never a traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class LlmSetupError(Exception):
    """The model cannot be used as configured (missing extra, file or name): one line."""


class AnswerFormatError(ProviderError):
    """The server answered, but the model's message is not a JSON object.

    Kept apart from transport failures: the server is up, so the caller may ask again (a
    model sometimes strays from the schema once) instead of giving up on the provider.
    """


def require_sealed(request: object) -> SealedRequest:
    """The request itself when it passed the redaction gate; otherwise refuse to send it."""
    if not isinstance(request, SealedRequest):
        raise UnsealedRequestError(
            f"refusing to send {type(request).__name__}: provider requests must be sealed "
            "by the redaction gate (llm.sealed.seal)"
        )
    return request


@dataclass(frozen=True)
class ProviderStatus:
    """What ``aiops llm check`` reports: does it answer, which models, how fast."""

    ok: bool
    models: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; ``Retry-After`` wins when the server sends it."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * 2.0 ** (attempt - 1)
        backoff *= 1.0 + random.uniform(0.0, self.jitter)
        return min(backoff, self.max_delay)


@runtime_checkable
class Provider(Protocol):
    """The interface the fixers talk to; one implementation per wire format."""

    name: str

    def chat(self, request: SealedRequest, *, timeout: float) -> dict[str, Any]:
        """Ask for one JSON object valid for the request's schema; return it parsed."""
        ...

    def models(self) -> list[str]:
        """Names of the models the server offers."""
        ...

    def check(self) -> ProviderStatus:
        """Whether the provider answers, its models and the latency of a tiny request."""
        ...


class _Retryable(Exception):
    """Internal: an attempt failed in a way worth repeating."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _first_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class _HttpProvider:
    """Shared HTTP, retry and parsing logic; subclasses supply paths and payload shapes."""

    name = "http"

    def __init__(
        self,
        url: str,
        model: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        # A local server must never be reached through an HTTP proxy from the environment.
        handlers: list[urllib.request.BaseHandler] = []
        if _is_loopback(self.url):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    # -- hooks -------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    # -- transport ---------------------------------------------------------------------------
    def _once(self, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=self._headers()
        )
        where = f"{self.name} at {self.url}"
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = _first_line(exc.read().decode("utf-8", "replace")) if exc.fp else ""
            message = f"{where} answered HTTP {status}" + (f": {detail}" if detail else "")
            if status in RETRYABLE_STATUS:
                retry_after = _parse_retry_after(exc.headers.get("Retry-After"))
                raise _Retryable(message, retry_after) from None
            raise ProviderError(message) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise _Retryable(f"{where} timed out after {timeout:g}s") from None
            raise _Retryable(f"{where} unreachable: {_first_line(str(reason))}") from None
        except TimeoutError:
            raise _Retryable(f"{where} timed out after {timeout:g}s") from None
        except (OSError, http.client.HTTPException) as exc:
            text = _first_line(str(exc)) or type(exc).__name__
            raise _Retryable(f"{where} connection failed: {text}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise ProviderError(
                f"{where} returned non-JSON body: {_first_line(raw.decode('utf-8', 'replace'), 80)}"
            ) from None

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> Any:
        """One logical request: retried on 429/5xx/connection errors, then one ProviderError."""
        limit = max(1, attempts if attempts is not None else self.retry.max_attempts)
        per_request = self.timeout if timeout is None else timeout
        for attempt in range(1, limit + 1):
            try:
                return self._once(method, path, body, per_request)
            except _Retryable as exc:
                if attempt >= limit:
                    suffix = f" (after {limit} attempts)" if limit > 1 else ""
                    raise ProviderError(f"{exc}{suffix}") from None
                self._sleep(self.retry.delay(attempt, exc.retry_after))
        raise ProviderError(
            f"{self.name}: no attempt made"
        )  # pragma: no cover - loop always returns

    # -- parsing -----------------------------------------------------------------------------
    def _parse_content(self, content: Any) -> dict[str, Any]:
        if isinstance(content, dict):
            return content
        if not isinstance(content, str):
            raise AnswerFormatError(f"{self.name} returned no message content")
        try:
            parsed = json.loads(content)
        except ValueError:
            raise AnswerFormatError(
                f"{self.name} returned non-JSON content: {_first_line(content, 80)}"
            ) from None
        if not isinstance(parsed, dict):
            raise AnswerFormatError(f"{self.name} returned JSON that is not an object")
        return parsed

    # -- shared check ------------------------------------------------------------------------
    def models(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def chat(
        self, request: SealedRequest, *, timeout: float
    ) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _has_model(self, names: list[str]) -> bool:
        return self.model in names

    def check(self) -> ProviderStatus:
        """List models, then time one tiny schema-constrained chat; never raises."""
        try:
            names = self.models()
        except ProviderError as exc:
            return ProviderStatus(ok=False, error=str(exc))
        if not self._has_model(names):
            shown = ", ".join(names[:10]) or "none"
            return ProviderStatus(
                ok=False,
                models=names,
                error=f"{self.name}: model {self.model!r} not available (models: {shown})",
            )
        started = time.perf_counter()
        try:
            self.chat(check_request(), timeout=self.timeout)
        except ProviderError as exc:
            return ProviderStatus(ok=False, models=names, error=str(exc))
        latency_ms = (time.perf_counter() - started) * 1000.0
        return ProviderStatus(ok=True, models=names, latency_ms=round(latency_ms, 1))


class OllamaProvider(_HttpProvider):
    """Ollama's native ``/api/chat`` with ``format`` set to the JSON schema."""

    name = "ollama"

    def __init__(
        self,
        url: str = DEFAULT_OLLAMA_URL,
        model: str = "qwen2.5:3b",
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(url, model, retry=retry, timeout=timeout, sleep=sleep)

    def chat(self, request: SealedRequest, *, timeout: float) -> dict[str, Any]:
        sealed = require_sealed(request)
        payload = {
            "model": self.model,
            "messages": sealed.messages(),
            "format": sealed.schema(),
            "stream": False,
            "options": {"temperature": 0},
        }
        answer = self._request("POST", "/api/chat", payload, timeout=timeout)
        message = answer.get("message") if isinstance(answer, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        return self._parse_content(content)

    def models(self) -> list[str]:
        answer = self._request("GET", "/api/tags")
        entries = answer.get("models") if isinstance(answer, dict) else None
        if not isinstance(entries, list):
            raise ProviderError(f"{self.name} returned an unexpected model list")
        return [str(e.get("name")) for e in entries if isinstance(e, dict) and e.get("name")]

    def _has_model(self, names: list[str]) -> bool:
        # Ollama tags "llama3" as "llama3:latest".
        return self.model in names or f"{self.model}:latest" in names


class OpenAIProvider(_HttpProvider):
    """Any OpenAI-compatible ``/v1/chat/completions`` (vLLM, llama.cpp server, LM Studio, ...).

    The API key is read from the environment variable named by ``api_key_env`` at request time,
    so it is never stored in config files or echoed in errors.
    """

    name = "openai"

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        strict: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = url.rstrip("/")
        base = base.removesuffix("/v1")
        super().__init__(base, model, retry=retry, timeout=timeout, sleep=sleep)
        self.api_key_env = api_key_env
        self.strict = strict

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def chat(self, request: SealedRequest, *, timeout: float) -> dict[str, Any]:
        sealed = require_sealed(request)
        payload = {
            "model": self.model,
            "messages": sealed.messages(),
            "temperature": 0,
            "stream": False,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": sealed.schema(),
                    "strict": self.strict,
                },
            },
        }
        answer = self._request("POST", "/v1/chat/completions", payload, timeout=timeout)
        choices = answer.get("choices") if isinstance(answer, dict) else None
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        return self._parse_content(content)

    def models(self) -> list[str]:
        answer = self._request("GET", "/v1/models")
        entries = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(entries, list):
            raise ProviderError(f"{self.name} returned an unexpected model list")
        return [str(e.get("id")) for e in entries if isinstance(e, dict) and e.get("id")]
