"""JSON lines: one JSON object per line, with whatever key names the logger chose.

Each common concept has a list of key spellings seen in the wild (pino/bunyan, structlog,
logrus/zap/zerolog, ECS, GELF, journald ``-o json`` ...). The first key present wins; keys that
were used are removed and everything else goes to ``fields`` untouched, so nothing is lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import parse_any
from aiops_copilot.models import Level, LogRecord, parse_level

TIME_KEYS = ("ts", "time", "timestamp", "@timestamp", "t", "date", "datetime", "@t",
             "__REALTIME_TIMESTAMP")  # fmt: skip
LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "loglevel", "log.level", "log_level",
              "@l", "PRIORITY")  # fmt: skip
MESSAGE_KEYS = ("msg", "message", "log", "text", "event", "@m", "@mt", "MESSAGE",
                "short_message")  # fmt: skip
HOST_KEYS = ("host", "hostname", "_HOSTNAME", "host.name")
SERVICE_KEYS = ("service", "app", "logger", "name", "component", "service.name", "logger_name",
                "SYSLOG_IDENTIFIER", "application")  # fmt: skip
PID_KEYS = ("pid", "process.pid", "_PID", "process_id")


def _scalar_name(value: Any) -> str | None:
    """Names may be nested (ECS ``"service": {"name": ...}``, ``"host": {"name": ...}``)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        inner = value.get("name")
        return inner if isinstance(inner, str) and inner else None
    return None


def _level(value: Any) -> Level:
    if isinstance(value, bool):
        return Level.UNKNOWN
    if isinstance(value, int):
        return parse_level(value)
    if isinstance(value, str):
        return level_of(value)
    return Level.UNKNOWN


def record_from_mapping(data: dict[str, Any], raw: str, format_name: str) -> LogRecord:
    """Map a decoded JSON object onto a :class:`LogRecord` (shared with the container format)."""
    fields = dict(data)
    record = LogRecord(message="", raw=raw, format=format_name)
    for key in TIME_KEYS:
        if key in fields:
            ts = parse_any(fields[key])
            if ts is not None:
                record.timestamp = ts
                del fields[key]
                break
    for key in LEVEL_KEYS:
        if key in fields:
            level = _level(fields[key])
            if level is not Level.UNKNOWN:
                record.level = level
                del fields[key]
                break
    for key in MESSAGE_KEYS:
        value = fields.get(key)
        if isinstance(value, str):
            record.message = value.rstrip("\n")
            del fields[key]
            break
    else:
        record.message = raw
    record.host = _take_name(fields, HOST_KEYS)
    record.service = _take_name(fields, SERVICE_KEYS)
    for key in PID_KEYS:
        value = fields.get(key)
        pid = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str):
            pid = to_int(value) if value.isdigit() else None
        if pid is not None:
            record.pid = pid
            del fields[key]
            break
    record.fields = fields
    return record


def load_object(text: str) -> dict[str, Any] | None:
    """``json.loads`` that returns ``None`` for anything but an object (and never raises: deep
    nesting raises ``RecursionError``, huge integers ``ValueError``)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class JsonFormat(FormatSpec):
    """Structured JSON-lines logs from any logger."""

    name = "json"
    description = "JSON lines with common keys (ts/level/msg/...), the rest into fields"
    specificity = 0.7
    multiline = False
    mine_field_keys = True

    def parse(self, line: str) -> LogRecord | None:
        text = strip_eol(line).strip().lstrip("\ufeff")  # a BOM may survive on the first line
        if len(text) < 2 or text[0] != "{" or text[-1] != "}":
            return None
        data = load_object(text)
        if data is None:
            return None
        return record_from_mapping(data, text, self.name)


def _take_name(fields: dict[str, Any], keys: Sequence[str]) -> str | None:
    """The first of ``keys`` holding a usable name, removed from ``fields`` (it now has a
    dedicated place in the record)."""
    for key in keys:
        name = _scalar_name(fields.get(key))
        if name is not None:
            del fields[key]
            return name
    return None
