"""nginx ``error_log``: ``yyyy/mm/dd hh:mm:ss [level] pid#tid: *conn message, client: ...``.

nginx appends request context as ``, key: value`` pairs (client, server, request, upstream,
host, referrer); they are split off into ``fields`` so the message is the bare error text and
similar errors from different clients share one template. The time is local time without a
zone, taken as UTC.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import build
from aiops_copilot.models import LogRecord

_HEAD = re.compile(
    r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[([a-z]+)\] (\d{1,10})#(\d{1,10}): "
    r"(?:\*(\d{1,18}) )?(.*)"
)
_CONTEXT_KEYS = ("client", "server", "request", "subrequest", "upstream", "host", "referrer")
_CONTEXT = re.compile(r", (" + "|".join(_CONTEXT_KEYS) + r'): ("(?:[^"\\]|\\.)*"|[^,]*)')


def split_context(text: str, fields: dict[str, Any]) -> str:
    """Move the trailing ``, client: ..., request: "..."`` pairs into ``fields``."""
    start = text.find(", client: ")
    if start < 0:
        start = text.find(", server: ")
        if start < 0:
            return text
    for m in _CONTEXT.finditer(text, start):
        value = m.group(2)
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        fields[m.group(1)] = value
    return text[:start]


class NginxErrorFormat(FormatSpec):
    """nginx error log lines."""

    name = "nginx_error"
    description = "nginx error_log: '2026/11/23 10:00:00 [error] 1234#1234: *5 msg, client: ...'"
    specificity = 0.9
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if len(line) < 20 or line[4] != "/" or not line[0].isdigit():
            return None
        m = _HEAD.match(line)
        if m is None:
            return None
        y, mo, d, hh, mm, ss, level, pid, tid, conn, rest = m.groups()
        fields: dict[str, Any] = {"tid": to_int(tid)}
        if conn:
            fields["connection"] = to_int(conn)
        message = split_context(rest, fields)
        return LogRecord(
            message=message,
            timestamp=build(int(y), int(mo), int(d), int(hh), int(mm), int(ss)),
            level=level_of(level),
            service="nginx",
            pid=to_int(pid),
            fields=fields,
            raw=line,
            format=self.name,
        )
