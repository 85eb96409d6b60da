"""``POST /v1/logs``: newline-delimited JSON or plain text, told apart by ``Content-Type``.

JSON (``application/x-ndjson``, ``application/json``, ``application/jsonlines``) is checked
strictly — every non-blank line an object, or one array of objects — and a bad line refuses
the whole request with its line number, so a sender finds its bug instead of losing data.
Text (``text/plain``, or no type at all) is read like a file: any bytes are accepted, the
format is detected, invalid UTF-8 is replaced and counted.
"""

from __future__ import annotations

import json
from typing import Any

from aiops_copilot.api.decode.common import Builder, Decoded, Entry, decode_text
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.formats.json_lines import load_object

JSON_TYPES = (
    "application/x-ndjson",
    "application/ndjson",
    "application/json",
    "application/jsonlines",
    "application/x-jsonlines",
    "application/json-seq",
)
TEXT_TYPES = ("", "text/plain", "application/octet-stream", "text/x-log")


def decode_logs(
    data: bytes, kind: str, *, source: str, service: str | None, builder: Builder
) -> Decoded:
    """The records of one ``/v1/logs`` body (``kind`` is its media type)."""
    decoded = Decoded()
    text, invalid = decode_text(data)
    decoded.invalid_utf8 = invalid
    if kind in JSON_TYPES:
        entries = _json_entries(text, service)
    elif kind in TEXT_TYPES or kind.startswith("text/"):
        entries = [Entry(text=text, service=service)] if text.strip() else []
    else:
        raise ApiError(
            415,
            f"Content-Type {kind!r} is not supported: send application/x-ndjson "
            "(one JSON object per line) or text/plain (log lines)",
        )
    builder.batch(source, entries, decoded)
    return decoded


def _json_entries(text: str, service: str | None) -> list[Entry]:
    stripped = text.strip()
    if stripped.startswith("["):
        return _array_entries(stripped, service)
    if stripped.startswith("{") and "\n" in stripped:
        whole = load_object(stripped)  # one pretty-printed object
        if whole is not None:
            return [Entry(text=json.dumps(whole, ensure_ascii=False), service=service, data=whole)]
    entries: list[Entry] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip().lstrip("\x1e")  # json-seq record separators
        if not line:
            continue
        data = load_object(line)
        if data is None:
            raise ApiError(400, f"line {number} is not a JSON object: {_quote(line)}")
        entries.append(Entry(text=line, service=service, data=data))
    return entries


def _array_entries(text: str, service: str | None) -> list[Entry]:
    try:
        items: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(
            400, "body is not valid JSON (an array of objects, or one per line)"
        ) from None
    if not isinstance(items, list):
        raise ApiError(400, "body is not a JSON array of objects")
    entries = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ApiError(400, f"array item {number} is not a JSON object")
        entries.append(Entry(text=json.dumps(item, ensure_ascii=False), service=service, data=item))
    return entries


def _quote(line: str, limit: int = 60) -> str:
    return repr(line if len(line) <= limit else line[:limit] + "…")
