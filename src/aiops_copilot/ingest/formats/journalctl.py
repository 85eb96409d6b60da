"""``journalctl -o short-iso`` (and the identical shape of rsyslog's ``RSYSLOG_FileFormat``).

``2026-11-23T10:00:01+0000 host prog[pid]: msg``; ``short-iso-precise`` adds microseconds.
The ``-- Boot ... --`` / ``-- No entries --`` separators are kept as records of their own so
they do not get glued onto the last message of the previous boot.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import strip_eol
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.formats.syslog_rfc3164 import split_tag
from aiops_copilot.ingest.timeparse import parse_iso
from aiops_copilot.models import LogRecord

_HEAD = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (\S+) (.*)"
)
_MARKER = re.compile(
    r"-- (?:Boot [0-9a-f]+|No entries|Reboot|Logs begin at .*|Journal begins .*) --$"
)


class JournalctlFormat(FormatSpec):
    """systemd journal exported with ``-o short-iso`` / rsyslog ISO file format."""

    name = "journalctl"
    aliases = ("syslog_iso", "journalctl_short_iso")
    description = "journalctl -o short-iso: '2026-11-23T10:00:01+0000 host prog[pid]: msg'"
    specificity = 0.85
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line:
            return None
        first = line[0]
        if first == "-":
            if _MARKER.match(line):
                return LogRecord(message=line, service="journal", raw=line, format=self.name)
            return None
        if not first.isdigit():
            return None
        m = _HEAD.match(line)
        if m is None:
            return None
        stamp, host, rest = m.groups()
        fields: dict[str, Any] = {}
        service, pid, message = split_tag(rest, fields)
        if service is None:  # journalctl always prints an identifier; without one it is not ours
            return None
        return LogRecord(
            message=message,
            timestamp=parse_iso(stamp),
            host=host,
            service=service,
            pid=pid,
            fields=fields,
            raw=line,
            format=self.name,
        )
