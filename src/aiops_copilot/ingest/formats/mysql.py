"""MySQL / MariaDB error log.

* MySQL 8: ``2026-11-23T10:00:00.123456Z 0 [Warning] [MY-010068] [Server] msg``
* MySQL 5.7: the same without ``[MY-...] [Subsystem]``
* MariaDB: ``2026-11-23 10:00:00 0 [Note] msg`` (local time without zone, taken as UTC)

The number after the time is the connection/thread id (0 = server itself) → ``fields["thread"]``.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import parse_iso
from aiops_copilot.models import LogRecord

_LINE = re.compile(
    r"(\d{4}-\d\d-\d\d(?:T| {1,2})\d{1,2}:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)?) "
    r"(\d{1,20}) \[([A-Za-z]+)\] (?:\[(MY-\d+)\] )?(?:\[(\w+)\] )?(.*)"
)
_HOUR_PAD = re.compile(r"^(\S+) {1,2}(\d):")


class MysqlFormat(FormatSpec):
    """MySQL 5.7/8 and MariaDB error log lines."""

    name = "mysql"
    aliases = ("mariadb", "mysql_error")
    description = "MySQL/MariaDB error log: '2026-11-23T10:00:00.123456Z 0 [Warning] [MY-..] msg'"
    specificity = 0.9
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if len(line) < 24 or not line[0].isdigit() or "[" not in line:
            return None
        m = _LINE.match(line)
        if m is None:
            return None
        stamp, thread, level, code, subsystem, message = m.groups()
        fields: dict[str, Any] = {"thread": to_int(thread)}
        if code:
            fields["code"] = code
        if subsystem:
            fields["subsystem"] = subsystem
        # MariaDB pads the hour with a space ("2026-11-23  9:05:01"); ISO parsing wants "09".
        stamp = _HOUR_PAD.sub(r"\1 0\2:", stamp)
        return LogRecord(
            message=message,
            timestamp=parse_iso(stamp),
            level=level_of(level),
            service="mysqld",
            fields=fields,
            raw=line,
            format=self.name,
        )
