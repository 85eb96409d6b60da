"""The gated provider: the only provider object the rest of the copilot ever holds.

Why a wrapper and a factory: the assistant must not be *able* to send unredacted text, not just
be careful not to. :func:`open_provider` builds the raw provider and hands back only a
:class:`GatedProvider`, which keeps the raw one private and offers nothing that sends a string
without sealing it first (see :mod:`aiops_copilot.llm.sealed`; raw providers refuse unsealed
requests anyway). The gated provider also owns the run's single :class:`Redactor` -- one per
analysis, so the same password is ``<SECRET_1>`` in every prompt -- restores placeholders in
the answers, writes the audit line before each request leaves, answers repeated requests from
the disk cache or from an identical request already made in this run, and never lets a model
see a cached answer's secrets (the cache holds redacted text only).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiops_copilot.llm.audit import AuditLog
from aiops_copilot.llm.cache import AnswerCache
from aiops_copilot.llm.providers import (
    DEFAULT_OLLAMA_URL,
    LlmSetupError,
    OllamaProvider,
    OpenAIProvider,
    Provider,
    ProviderError,
    ProviderStatus,
    RetryPolicy,
    require_sealed,
)
from aiops_copilot.llm.redact import RedactionPolicy, Redactor
from aiops_copilot.llm.sealed import SealedRequest, seal

if TYPE_CHECKING:
    from aiops_copilot.config import LlmSettings

__all__ = [
    "DEFAULT_OPENAI_URL",
    "BudgetExhausted",
    "GatedProvider",
    "LlmSetupError",
    "Reply",
    "open_provider",
    "redaction_policy",
]

DEFAULT_OPENAI_URL = "http://127.0.0.1:8080"
DEFAULT_OLLAMA_MODEL = "qwen2.5:3b"
#: Seconds a request waits for an identical one in flight; the caller's deadline is shorter.
JOIN_WAIT = 3600.0
#: Tried when the variable ``llm.api_key_env`` names is unset.
FALLBACK_KEY_ENV = "OPENAI_API_KEY"


class BudgetExhausted(Exception):
    """The analysis' request or time budget is spent; nothing was sent."""


#: Called just before a request really leaves: the timeout to use, or ``None`` for "no more".
Permit = Callable[[], float | None]


@dataclass(frozen=True)
class Reply:
    """A model answer, restored for people, with where it came from."""

    answer: dict[str, Any]
    #: The answer as the model wrote it (placeholders in place): what the cache stores.
    raw: dict[str, Any]
    key: str
    cached: bool = False
    #: Answered by an identical request already made in this run.
    shared: bool = False


@dataclass
class _Flight:
    """An identical request in progress or done in this run (templates explained once)."""

    done: threading.Event = field(default_factory=threading.Event)
    raw: dict[str, Any] | None = None
    error: ProviderError | None = None


class GatedProvider:
    """Seal, audit, cache, send, restore: every model request of a run goes through here."""

    def __init__(
        self,
        raw: Provider,
        redactor: Redactor,
        *,
        audit: AuditLog | None = None,
        cache: AnswerCache | None = None,
    ) -> None:
        self.__raw = raw
        self._redactor = redactor
        self._audit = audit
        self._cache = cache
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    @property
    def name(self) -> str:
        return str(self.__raw.name)

    @property
    def model(self) -> str:
        return str(getattr(self.__raw, "model", "") or "")

    @property
    def audit(self) -> AuditLog | None:
        return self._audit

    # -- the gate -------------------------------------------------------------------------

    def seal(
        self, messages: Sequence[Mapping[str, Any]], schema: Mapping[str, Any]
    ) -> SealedRequest:
        """Redact with the run's redactor (serialised: its numbering is shared state)."""
        with self._lock:
            return seal(self._redactor, messages, schema)

    def restore(self, value: Any) -> Any:
        """Placeholders this run issued put back in every string of a JSON-like answer."""
        with self._lock:
            return _restore(self._redactor, value)

    def ask(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any],
        *,
        permit: Permit,
        incident: str | None = None,
        purpose: str = "diagnose",
    ) -> Reply:
        """Seal and send in one step."""
        return self.send(
            self.seal(messages, schema), permit=permit, incident=incident, purpose=purpose
        )

    def send(
        self,
        request: SealedRequest,
        *,
        permit: Permit,
        incident: str | None = None,
        purpose: str = "diagnose",
    ) -> Reply:
        """The answer to a sealed request: from the cache, from an identical request of this
        run, or from the provider (audited first). Raises ProviderError or BudgetExhausted."""
        sealed = require_sealed(request)
        key = AnswerCache.key(self.name, self.model, sealed)
        if self._cache is not None:
            stored = self._cache.get(key)
            if stored is not None:
                self._record(incident, purpose, sealed, cached=True)
                return Reply(self.restore(stored), stored, key, cached=True)
        with self._lock:
            flight = self._flights.get(key)
            owner = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not owner:
            return self._join(flight, key)
        try:
            timeout = permit()
            if timeout is None:
                raise BudgetExhausted("budget exhausted")
            self._record(incident, purpose, sealed, cached=False)
            flight.raw = self.__raw.chat(sealed, timeout=timeout)
        except ProviderError as exc:
            flight.error = exc
            raise
        finally:
            if flight.raw is None:  # failed: a later identical request tries afresh
                with self._lock:
                    self._flights.pop(key, None)
            flight.done.set()
        return Reply(self.restore(flight.raw), flight.raw, key)

    def remember(self, reply: Reply) -> None:
        """Keep a validated answer for the next run (cached replies are already kept)."""
        if self._cache is not None and not reply.cached:
            self._cache.put(reply.key, reply.raw, provider=self.name, model=self.model)

    def models(self) -> list[str]:
        """The server's model names (nothing of the logs is sent)."""
        return self.__raw.models()

    def check(self) -> ProviderStatus:
        """Whether the provider answers, its models, the latency of a tiny sealed request."""
        return self.__raw.check()

    # -- internals ------------------------------------------------------------------------

    def _join(self, flight: _Flight, key: str) -> Reply:
        """Wait for the identical request in flight (its own timeout bounds the wait)."""
        if not flight.done.wait(JOIN_WAIT):
            raise ProviderError(f"{self.name}: an identical request did not finish in time")
        if flight.raw is None:
            if flight.error is None:  # the first one was never sent: no budget left
                raise BudgetExhausted("budget exhausted")
            raise flight.error
        return Reply(self.restore(flight.raw), flight.raw, key, shared=True)

    def _record(
        self, incident: str | None, purpose: str, sealed: SealedRequest, *, cached: bool
    ) -> None:
        if self._audit is not None:
            self._audit.request(
                provider=self.name,
                model=self.model,
                incident=incident,
                purpose=purpose,
                sealed=sealed,
                cached=cached,
            )


def _restore(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redactor.restore(value)
    if isinstance(value, dict):
        return {k: _restore(redactor, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(redactor, v) for v in value]
    return value


def redaction_policy(settings: LlmSettings) -> RedactionPolicy:
    """What the gate hides beyond credentials and keys (always hidden)."""
    return RedactionPolicy(
        ips=settings.redact_ips, hostnames=settings.redact_hostnames, emails=settings.redact_emails
    )


def open_provider(
    settings: LlmSettings,
    redactor: Redactor | None = None,
    *,
    audit: AuditLog | None = None,
    cache: AnswerCache | None = None,
) -> GatedProvider:
    """The configured provider, gated: the one way the copilot obtains a provider."""
    return GatedProvider(
        _raw_provider(settings),
        redactor or Redactor(redaction_policy(settings)),
        audit=audit,
        cache=cache,
    )


def _raw_provider(settings: LlmSettings) -> Provider:
    retry = RetryPolicy(max_attempts=settings.retries)
    kind = settings.provider
    if kind == "ollama":
        url = _http_url(settings.url or DEFAULT_OLLAMA_URL)
        model = settings.model or DEFAULT_OLLAMA_MODEL
        return OllamaProvider(url, model, retry=retry, timeout=settings.timeout)
    if kind == "openai":
        if not settings.model:
            raise LlmSetupError("--llm openai needs a model name (--llm-model or llm.model)")
        key_env = settings.api_key_env
        if not os.environ.get(key_env) and os.environ.get(FALLBACK_KEY_ENV):
            key_env = FALLBACK_KEY_ENV
        url = _http_url(settings.url or DEFAULT_OPENAI_URL)
        return OpenAIProvider(
            url, settings.model, api_key_env=key_env, retry=retry, timeout=settings.timeout
        )
    if kind == "llamacpp":
        from aiops_copilot.llm.llamacpp import LlamaCppProvider  # the optional extra

        if not settings.model:
            raise LlmSetupError("--llm llamacpp needs a GGUF file (--llm-model PATH)")
        return LlamaCppProvider(Path(settings.model), context_tokens=settings.context_tokens)
    raise LlmSetupError(f"no model provider configured ({kind!r}); use ollama, openai or llamacpp")


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise LlmSetupError(f"llm url must start with http:// or https://, not {url!r}")
    return url
