"""logfmt: ``key=value`` pairs separated by spaces, values optionally double-quoted with
backslash escapes (Go: logrus, go-kit, Grafana/Loki/Prometheus, Heroku routers).

A line counts as logfmt only if it starts with ``key=`` and has at least two pairs, so ordinary
prose containing a stray ``a=b`` is not claimed.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import parse_any
from aiops_copilot.models import Level, LogRecord

_PAIR = re.compile(r'\s*([^\s="]+)(?:=("(?:[^"\\]|\\.)*"?|[^\s"]*))?')
_START = re.compile(r"[A-Za-z_@][\w.@/-]*=")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}

TIME_KEYS = ("ts", "time", "t", "timestamp", "date")
LEVEL_KEYS = ("level", "lvl", "severity", "loglevel")
MESSAGE_KEYS = ("msg", "message", "event", "log")
SERVICE_KEYS = ("service", "app", "component", "logger", "module")
HOST_KEYS = ("host", "hostname", "instance")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if "\\" in inner:
            return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), inner)
        return inner
    return value.lstrip('"')


def parse_pairs(text: str) -> dict[str, Any] | None:
    """Tokenise ``text`` into an ordered dict; a bare key (no ``=``) maps to ``True``."""
    pairs: dict[str, Any] = {}
    with_value = 0
    pos = 0
    length = len(text)
    while pos < length:
        m = _PAIR.match(text, pos)
        if m is None or m.end() == pos:
            return None
        key, value = m.group(1), m.group(2)
        if value is None:
            pairs[key] = True
        else:
            pairs[key] = _unquote(value)
            with_value += 1
        pos = m.end()
        if pos < length and not text[pos].isspace():
            return None  # e.g. 'a="x"y': not logfmt
    return pairs if with_value >= 2 else None


def _take(pairs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = pairs.get(key)
        if isinstance(value, str) and value:
            del pairs[key]
            return value
    return None


class LogfmtFormat(FormatSpec):
    """logfmt key=value lines."""

    name = "logfmt"
    description = "logfmt: 'ts=... level=info msg=\"...\" key=value'"
    specificity = 0.75
    multiline = False
    mine_field_keys = True

    def parse(self, line: str) -> LogRecord | None:
        text = strip_eol(line).strip()
        if not text or _START.match(text) is None:
            return None
        pairs = parse_pairs(text)
        if pairs is None:
            return None
        record = LogRecord(message="", raw=text, format=self.name)
        for key in TIME_KEYS:
            value = pairs.get(key)
            if isinstance(value, str):
                ts = parse_any(value)
                if ts is not None:
                    record.timestamp = ts
                    del pairs[key]
                    break
        for key in LEVEL_KEYS:
            value = pairs.get(key)
            if isinstance(value, str) and level_of(value) is not Level.UNKNOWN:
                record.level = level_of(value)
                del pairs[key]
                break
        record.message = _take(pairs, MESSAGE_KEYS) or text
        record.service = _take(pairs, SERVICE_KEYS)
        record.host = _take(pairs, HOST_KEYS)
        pid = pairs.get("pid")
        if isinstance(pid, str) and to_int(pid) is not None:
            record.pid = to_int(pid)
            del pairs["pid"]
        record.fields = pairs
        return record
