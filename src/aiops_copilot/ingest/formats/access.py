"""NCSA common / combined access logs (nginx ``combined``, Apache ``common``/``combined``).

``remote ident user [dd/Mon/yyyy:hh:mm:ss +zone] "request" status bytes ["referer" "agent"]``

One spec serves nginx and Apache because the two write byte-identical lines; the names
``nginx_access`` and ``apache_access`` are aliases. The message is the request line plus the
status, so that template mining separates ``GET /x 200`` from ``GET /x 502``; the level follows
the status (5xx error, 4xx warning, otherwise info) because access logs carry no severity.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import MONTHS, build, zone
from aiops_copilot.models import Level, LogRecord

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_LINE = re.compile(
    r"(\S+) (\S+) (\S+) \[(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r" ?([+-]\d{4})?\] " + _QUOTED + r" (\d{3}) (\d+|-)(?: " + _QUOTED + r" " + _QUOTED + r")?(.*)"
)


def status_level(status: int) -> Level:
    if status >= 500:
        return Level.ERROR
    if status >= 400:
        return Level.WARNING
    return Level.INFO


class AccessLogFormat(FormatSpec):
    """Common and combined log format access lines."""

    name = "access_combined"
    aliases = ("nginx_access", "apache_access", "access_common", "clf")
    description = "nginx/Apache access log, common or combined format"
    specificity = 0.9
    multiline = False
    identity_fields = ("status",)

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line or line[0] == " " or '] "' not in line:
            return None
        m = _LINE.match(line)
        if m is None:
            return None
        (remote, ident, user, day, mon, year, hh, mm, ss, frac, off, request, status_text,
         size, referer, agent, extra) = m.groups()  # fmt: skip
        month = MONTHS.get(mon.lower())
        ts = None
        if month is not None:
            micro = int((frac or "0").ljust(6, "0"))
            ts = build(int(year), month, int(day), int(hh), int(mm), int(ss), micro, zone(off))
        status = int(status_text)
        fields: dict[str, Any] = {"remote_addr": remote, "status": status}
        if ident != "-":
            fields["ident"] = ident
        if user != "-":
            fields["remote_user"] = user
        parts = request.split(" ")
        if len(parts) == 3:
            fields["method"], fields["path"], fields["protocol"] = parts
        elif len(parts) == 2:
            fields["method"], fields["path"] = parts
        elif request:
            fields["request"] = request
        fields["bytes"] = to_int(size) if size != "-" else 0
        if referer is not None and referer != "-":
            fields["referer"] = referer
        if agent is not None and agent != "-":
            fields["user_agent"] = agent
        extra = extra.strip()
        if extra:
            fields["extra"] = extra
        return LogRecord(
            message=f"{request} {status}",
            timestamp=ts,
            level=status_level(status),
            fields=fields,
            raw=line,
            format=self.name,
        )
