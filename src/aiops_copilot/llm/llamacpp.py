"""An embedded model: a GGUF file run in-process through llama-cpp-python (optional extra).

Why: some sites may not run a model server at all, yet a small quantised model on the same
machine can still sharpen a diagnosis. Structured output uses llama.cpp's JSON-schema
grammar (``response_format={"type": "json_object", "schema": ...}``), so the answer is valid
JSON by construction, exactly as with the servers' native schema modes.

The module imports ``llama_cpp`` only when the model is first used: the extra is optional and
the import is heavy. A missing extra or file is a one-line :class:`LlmSetupError` at start-up,
before any log is read. In-process generation cannot be aborted from outside, so the answer is
streamed and the timeout checked between tokens; prompt evaluation itself is not interrupted.
A ``Llama`` object is not thread-safe: requests are serialised with a lock.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from aiops_copilot.llm.providers import (
    AnswerFormatError,
    LlmSetupError,
    ProviderError,
    ProviderStatus,
    check_request,
    require_sealed,
)
from aiops_copilot.llm.sealed import SealedRequest

__all__ = ["EXTRA_HINT", "LlamaCppProvider"]

EXTRA_HINT = "pip install 'aiops-copilot[llamacpp]'"
GGUF_MAGIC = b"GGUF"
MAX_ANSWER_TOKENS = 1024


class LlamaCppProvider:
    """A GGUF model file, loaded on first use, answering through llama.cpp's schema grammar."""

    name = "llamacpp"

    def __init__(
        self,
        path: Path,
        *,
        context_tokens: int = 8192,
        threads: int | None = None,
        max_tokens: int = MAX_ANSWER_TOKENS,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LlmSetupError(f"--llm llamacpp needs the llamacpp extra: {EXTRA_HINT}")
        path = path.expanduser()
        if not path.is_file():
            raise LlmSetupError(f"GGUF model file not found: {path}")
        try:
            with path.open("rb") as handle:
                magic = handle.read(4)
        except OSError as exc:
            raise LlmSetupError(f"cannot read {path}: {exc.strerror}") from None
        if magic != GGUF_MAGIC:
            raise LlmSetupError(f"{path} is not a GGUF model file")
        self.path = path
        self.model = path.name
        self.context_tokens = context_tokens
        self.max_tokens = max_tokens
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._llama: Any = None

    def _load(self) -> Any:
        if self._llama is None:
            try:
                llama_cpp = importlib.import_module("llama_cpp")
            except ImportError as exc:  # the spec existed but the library does not load
                raise ProviderError(f"llamacpp: cannot import llama_cpp: {exc}") from None
            try:
                self._llama = llama_cpp.Llama(
                    model_path=str(self.path),
                    n_ctx=self.context_tokens,
                    n_threads=self.threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ProviderError(f"llamacpp: cannot load {self.path.name}: {exc}") from None
        return self._llama

    def chat(self, request: SealedRequest, *, timeout: float) -> dict[str, Any]:
        sealed = require_sealed(request)
        with self._lock:
            llama = self._load()
            deadline = time.monotonic() + timeout
            parts: list[str] = []
            try:
                # Streamed, so the deadline is checked between tokens.
                stream = llama.create_chat_completion(
                    messages=sealed.messages(),
                    response_format={"type": "json_object", "schema": sealed.schema()},
                    temperature=0.0,
                    max_tokens=self.max_tokens,
                    stream=True,
                )
                for chunk in stream:
                    if time.monotonic() > deadline:
                        stream.close()
                        raise ProviderError(f"llamacpp timed out after {timeout:g}s")
                    parts.append(_delta(chunk))
            except (ValueError, RuntimeError) as exc:
                raise ProviderError(f"llamacpp: generation failed: {exc}") from None
        return _content("".join(parts))

    def models(self) -> list[str]:
        return [self.model]

    def check(self) -> ProviderStatus:
        """Load the model, then time one tiny schema-constrained request; never raises."""
        try:
            with self._lock:
                self._load()  # loading is not the request's latency
            started = time.perf_counter()
            self.chat(check_request(), timeout=120.0)
        except ProviderError as exc:
            return ProviderStatus(ok=False, models=self.models(), error=str(exc))
        latency_ms = (time.perf_counter() - started) * 1000.0
        return ProviderStatus(ok=True, models=self.models(), latency_ms=round(latency_ms, 1))


def _delta(chunk: Any) -> str:
    """The text one streamed chunk adds (nothing for role-only or final chunks)."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    delta = first.get("delta") if isinstance(first, dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _content(content: str) -> dict[str, Any]:
    if not content.strip():
        raise AnswerFormatError("llamacpp returned no message content")
    try:
        parsed = json.loads(content)
    except ValueError:
        raise AnswerFormatError(
            f"llamacpp returned non-JSON content: {' '.join(content.split())[:80]}"
        ) from None
    if not isinstance(parsed, dict):
        raise AnswerFormatError("llamacpp returned JSON that is not an object")
    return parsed
