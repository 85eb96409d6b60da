"""``POST /loki/api/v1/push``: Loki's JSON push body (protobuf: :mod:`.loki_proto`).

``{"streams": [{"stream": {labels}, "values": [["<unix ns>", "<line>", {metadata}?], ...]}]}``
(the current API, sent by Fluent Bit and Vector), and the legacy
``{"streams": [{"labels": "{job=\\"x\\"}", "entries": [{"ts": "<RFC 3339>", "line": "..."}]}]}``.
Each stream is one source (its ``filename`` label, else ``loki/<service or job>``); its lines
are parsed like a file's, the labels filling what a line does not say.

A body that is not this shape is refused (400). A bad entry in a good body is skipped and
counted, unless nothing in the body was usable (400 then, naming the first problem): a
shipper drops a refused batch, so refusing a whole batch for one entry would lose the rest.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiops_copilot.api.body import scalar
from aiops_copilot.api.decode.common import Builder, Decoded, Entry, decode_text
from aiops_copilot.api.decode.labels import FILE, HOST, SERVICE, first, level_from
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.timeparse import from_epoch, parse_any

_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=~?\s*"((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def decode_loki(data: bytes, builder: Builder) -> Decoded:
    text, _ = decode_text(data)
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, 'body is not valid JSON (Loki push: {"streams": [...]})') from None
    if not isinstance(body, dict) or not isinstance(body.get("streams"), list):
        raise ApiError(400, 'body must be a JSON object with a "streams" list (Loki push API)')
    decoded = Decoded()
    offered = 0
    for number, stream in enumerate(body["streams"], start=1):
        if not isinstance(stream, dict):
            decoded.skip(f"stream {number} is not an object")
            offered += 1
            continue
        labels = _labels(stream, number, decoded)
        values = stream.get("values", stream.get("entries"))
        if not isinstance(values, list):
            decoded.skip(f'stream {number}: "values" must be a list of [ts, line] pairs')
            offered += 1
            continue
        offered += len(values)
        entries = [e for v in values if (e := _entry(v, labels, number, decoded)) is not None]
        builder.batch(source_of(labels), entries, decoded)
    if decoded.skipped and not decoded.records:
        raise ApiError(400, f"nothing usable in the push: {decoded.problem}")
    return decoded


def _labels(stream: dict[str, Any], number: int, decoded: Decoded) -> dict[str, str]:
    raw = stream.get("stream", stream.get("labels", {}))
    if isinstance(raw, str):
        return parse_labels(raw)
    if isinstance(raw, dict):
        return {str(k): v for k, item in raw.items() if (v := scalar(item)) is not None}
    decoded.skip(f'stream {number}: "stream" labels must be an object')
    return {}


def _entry(value: Any, labels: dict[str, str], number: int, decoded: Decoded) -> Entry | None:
    metadata: Any = None
    if isinstance(value, list) and len(value) in (2, 3):
        stamp, line = value[0], value[1]
        metadata = value[2] if len(value) == 3 else None
        moment = _nanoseconds(stamp)
    elif isinstance(value, dict):  # legacy {"ts": RFC 3339, "line": ...}
        stamp, line = value.get("ts"), value.get("line")
        moment = parse_any(stamp) if isinstance(stamp, str) else None
    else:
        decoded.skip(f"stream {number}: an entry is not a [timestamp, line] pair")
        return None
    if not isinstance(line, str):
        decoded.skip(f"stream {number}: an entry's line is not a string")
        return None
    if moment is None:
        decoded.skip(f"stream {number}: timestamp {stamp!r} is not Unix nanoseconds")
        return None
    extra = metadata if isinstance(metadata, dict) else {}
    return entry_of(line, moment, labels, extra)


def parse_labels(text: str) -> dict[str, str]:
    """``{job="app", filename="/var/log/app.log"}`` (a stream selector) as a mapping; values
    are Go-quoted (Promtail writes them with ``strconv.Quote``), so escapes are undone."""
    return {
        name: _ESCAPE.sub(_unescape, value)
        for name, value in _LABEL.findall(text.strip().strip("{}"))
    }


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        point = int(code[1:], 16)
        return chr(point) if point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF else "\ufffd"
    return _SIMPLE_ESCAPES.get(code, code)


def entry_of(
    line: str, moment: datetime, labels: dict[str, str], metadata: dict[str, Any]
) -> Entry:
    """One pushed line: the stream's labels and the entry's structured metadata as fields,
    which also say its level, host and service when the line does not."""
    fields: dict[str, Any] = dict(labels)
    fields.update({str(k): v for k, v in metadata.items() if scalar(v) is not None})
    return Entry(
        text=line,
        timestamp=moment,
        level=level_from(fields),
        host=first(fields, HOST),
        service=first(fields, SERVICE),
        fields=fields,
    )


def _nanoseconds(stamp: Any) -> Any:
    if isinstance(stamp, str) and stamp.isdigit() and len(stamp) <= 20:
        return from_epoch(int(stamp) / 1e9)
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp >= 0:
        return from_epoch(stamp / 1e9)
    return None


def source_of(labels: dict[str, str]) -> str:
    """The source a stream's lines are cited under."""
    path = first(labels, FILE)
    if path:
        return path
    return f"loki/{first(labels, SERVICE) or 'stream'}"
