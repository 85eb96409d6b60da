"""A request that has passed the redaction gate: the only thing a provider agrees to send.

Why a type rather than a convention: "callers must redact first" is a rule someone forgets.
Here a provider's ``chat`` takes a :class:`SealedRequest` and refuses anything else, and a
``SealedRequest`` can only be made by :func:`seal`, which runs every string of the messages and
the schema through a :class:`~aiops_copilot.llm.redact.Redactor`. So there is no path from log
text to the network that skips the gate: a raw list of messages is refused before a socket is
opened, and a sealed request cannot be edited afterwards (it holds immutable JSON text, not
dictionaries a caller could still change).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiops_copilot.llm.redact import PLACEHOLDER_RE, AuditEntry, Redactor

__all__ = ["SealedRequest", "UnsealedRequestError", "redact_json", "seal"]

#: Known only to this module: a SealedRequest built anywhere else is refused.
_SEAL: Final = object()


class UnsealedRequestError(TypeError):
    """Something tried to send a request that did not pass the redaction gate."""


@dataclass(frozen=True, slots=True)
class SealedRequest:
    """Redacted messages and schema as JSON text, plus what the gate hid in them."""

    messages_json: str
    schema_json: str
    #: The placeholders that occur in this request, with kind and a preview (never the value).
    redactions: tuple[AuditEntry, ...]
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise UnsealedRequestError(
                "a SealedRequest is made only by llm.sealed.seal(): "
                "every string bound for a provider passes the redaction gate"
            )

    def messages(self) -> list[dict[str, Any]]:
        """A fresh copy of the redacted messages, ready for a request body."""
        value: list[dict[str, Any]] = json.loads(self.messages_json)
        return value

    def schema(self) -> dict[str, Any]:
        """A fresh copy of the JSON schema the answer must follow."""
        value: dict[str, Any] = json.loads(self.schema_json)
        return value

    @property
    def digest(self) -> str:
        """SHA-256 of exactly what would be sent (messages and schema)."""
        raw = f"{self.messages_json}\n{self.schema_json}".encode()
        return hashlib.sha256(raw).hexdigest()

    @property
    def chars(self) -> int:
        """Characters of message content: what the model has to read."""
        return sum(len(str(m.get("content", ""))) for m in self.messages())


def redact_json(redactor: Redactor, value: Any) -> Any:
    """Every string in a JSON-like value (keys included) through ``redactor``."""
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, Mapping):
        return {redact_json(redactor, str(k)): redact_json(redactor, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(redactor, v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redactor.redact(str(value))


def seal(
    redactor: Redactor, messages: Sequence[Mapping[str, Any]], schema: Mapping[str, Any]
) -> SealedRequest:
    """Redact the messages and the schema and freeze them: the one way to a SealedRequest."""
    messages_json = json.dumps(redact_json(redactor, list(messages)), ensure_ascii=False)
    schema_json = json.dumps(redact_json(redactor, dict(schema)), ensure_ascii=False)
    present = set(PLACEHOLDER_RE.findall(messages_json))
    shown = {f"<{kind}_{number}>" for kind, number in present}
    redactions = tuple(entry for entry in redactor.audit if entry.placeholder in shown)
    return SealedRequest(messages_json, schema_json, redactions, _SEAL)
