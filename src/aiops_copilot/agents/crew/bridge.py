"""The crew's language model: a CrewAI ``BaseLLM`` whose every call goes through our gate.

Why a bridge and not CrewAI's own ``LLM``: CrewAI's providers talk to model servers with their
own HTTP clients, around the copilot's redaction gate, audit, cache and budget. Here the only
model object the crew's agents hold is :func:`gated_llm`'s, and its ``call`` does nothing but
hand the conversation to :class:`ModelLine`, which asks the run's
:class:`~aiops_copilot.llm.gate.GatedProvider` -- seal (redact), audit, cache, send, in that
order -- asking for the answer schema through the provider's native structured mode. The
answer goes back to CrewAI *with its placeholders in place*: CrewAI never holds a restored
secret either; the engine restores only what it writes into a diagnosis.

Failure policy, the same as the built-in assistant's: a transport failure or a spent budget
stops all model calls for the rest of the run (one warning line) by raising
:class:`CrewHalt`, which ends the crew's kickoff; an answer that is not JSON is handed back as
a short note so the task's guardrail rejects it and CrewAI asks once more.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from aiops_copilot.llm.budget import RequestBudget
from aiops_copilot.llm.gate import BudgetExhausted, GatedProvider, Reply
from aiops_copilot.llm.providers import AnswerFormatError, ProviderError

# RequestBudget lives in aiops_copilot.llm.budget (shared with the built-in assistant); it is
# re-exported here because it is the type ModelLine takes.
__all__ = ["CrewHalt", "ModelLine", "RequestBudget", "gated_llm", "plain_messages"]

#: What CrewAI is told when the model's message was not JSON (the guardrail then rejects it).
NOT_JSON = "(no answer: the model's message was not a JSON object)"


class CrewHalt(Exception):
    """No more model calls in this run. Worded so CrewAI's rate-limit retry does not fire."""


@dataclass
class Exchange:
    """The model calls made for one incident's task."""

    attempts: int = 0
    replies: list[Reply] = field(default_factory=list)
    format_error: str | None = None


class ModelLine:
    """What the crew's model does on each call: the gate, the budget, a record per incident."""

    def __init__(
        self, provider: GatedProvider, schema: Mapping[str, Any], budget: RequestBudget
    ) -> None:
        self.provider = provider
        self.schema = dict(schema)
        self.budget = budget
        self.exchanges: dict[str, Exchange] = {}
        self._lock = threading.Lock()

    def exchange(self, incident: str) -> Exchange:
        with self._lock:
            return self.exchanges.setdefault(incident, Exchange())

    def answer(self, messages: Any, incident: str | None) -> str:
        """The model's JSON answer as text (placeholders kept), or raise :class:`CrewHalt`."""
        conversation = plain_messages(messages)
        record = self.exchange(incident or "-")
        record.attempts += 1
        purpose = "diagnose" if record.attempts == 1 else "retry"
        try:
            reply = self.provider.ask(
                conversation,
                self.schema,
                permit=self.budget.permit,
                incident=incident,
                purpose=f"crewai {purpose}",
            )
        except BudgetExhausted:
            raise CrewHalt(self.budget.stopped or "budget exhausted") from None
        except AnswerFormatError as exc:
            record.format_error = str(exc)
            return NOT_JSON
        except ProviderError as exc:
            if self.budget.trip(str(exc)):
                logger.warning(
                    "llm: {}; continuing without the model (deterministic diagnoses kept)", exc
                )
            raise CrewHalt(str(exc)) from None
        record.replies.append(reply)
        return json.dumps(reply.raw, ensure_ascii=False)


def plain_messages(messages: Any) -> list[dict[str, str]]:
    """CrewAI's messages (a string, or dicts whose content may be a list of parts) as plain
    ``{"role", "content"}`` text messages, the only shape our providers send."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    out: list[dict[str, str]] = []
    for message in messages or []:
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role") or "user")
        if role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": _text(message.get("content"))})
    return out


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
            for part in content
        ]
        return "\n".join(p for p in parts if p)
    return str(content)


def gated_llm(base: Any, line: ModelLine, *, context_tokens: int) -> Any:
    """An instance of a ``BaseLLM`` subclass that answers through ``line`` and nothing else.

    The class is made with ``type()`` because its base comes from the optional crewai package
    (``Any`` to the type checker); the methods are closures over ``line``."""

    def call(self: Any, messages: Any, *args: Any, **kwargs: Any) -> str:
        task = kwargs.get("from_task")
        return line.answer(messages, getattr(task, "name", None))

    def no(self: Any) -> bool:
        return False

    def window(self: Any) -> int:
        return context_tokens

    def count(self: Any, messages: Any, *args: Any, **kwargs: Any) -> int:
        chars = sum(len(m["content"]) for m in plain_messages(messages))
        return (chars + 3) // 4  # as CrewAI estimates, without its warning on every call

    cls = type(
        "GatedCrewLLM",
        (base,),
        {
            "__module__": __name__,
            "call": call,
            "supports_function_calling": no,
            "supports_stop_words": no,
            "get_context_window_size": window,
            "get_input_tokens_count": count,
        },
    )
    name = f"{line.provider.name}/{line.provider.model}"
    return cls(model=name, provider=line.provider.name, temperature=0)
