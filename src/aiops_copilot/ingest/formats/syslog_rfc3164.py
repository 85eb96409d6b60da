"""BSD syslog (RFC 3164) as written by rsyslog/syslog-ng "traditional" files, macOS and Loghub.

``[<PRI>]Mmm dd hh:mm:ss host tag[pid]: message`` — the tag may carry a module in parentheses
(``sshd(pam_unix)[42]``, Linux PAM) and macOS adds `` (0x...)`` after the pid. The line has no
year and no zone: the year is inferred (see :func:`~aiops_copilot.ingest.timeparse.infer_year`)
and the time is taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiops_copilot.ingest.formats._util import strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import MONTHS, build, infer_year
from aiops_copilot.models import SYSLOG_SEVERITIES, Level, LogRecord

_HEAD = re.compile(
    r"(?:<(\d{1,3})>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r" (\S+) ?(.*)"
)
_TAG = re.compile(r"([^\s\[\]:(]+)(?:\(([^)\s]*)\))?(?:\[(\d{1,10})\])?(?: \(([^)]*)\))?: ?(.*)")

#: Syslog facility numbers (RFC 5424 table 1), for the ``facility`` field.
FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip


def apply_pri(pri: str | None, fields: dict[str, Any]) -> Level:
    """``<PRI>`` = facility * 8 + severity; the severity is the only level syslog carries."""
    if not pri:
        return Level.UNKNOWN
    value = int(pri)
    facility = value >> 3
    if facility < len(FACILITIES):
        fields["facility"] = FACILITIES[facility]
    return SYSLOG_SEVERITIES[value & 7]


def split_tag(rest: str, fields: dict[str, Any]) -> tuple[str | None, int | None, str]:
    """``tag[pid]: message`` → (service, pid, message); no tag → the whole rest is the message."""
    m = _TAG.match(rest)
    if m is None:
        return None, None, rest
    service, module, pid, address, message = m.groups()
    if module:
        fields["module"] = module
    if address:
        fields["address"] = address
    return service, to_int(pid), message


class SyslogRfc3164Format(FormatSpec):
    """RFC 3164 / "traditional" syslog files (``/var/log/syslog``, ``auth.log``, macOS)."""

    name = "syslog_rfc3164"
    description = "BSD syslog: 'Jun 14 15:16:01 host prog[pid]: msg' (optional <PRI>)"
    specificity = 0.8
    multiline = True

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        # The clock is injectable because year inference depends on "now" and tests must not.
        self._clock = clock or (lambda: datetime.now(UTC))

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line or line[0] not in "<ADFJMNOS":
            return None
        m = _HEAD.match(line)
        if m is None:
            return None
        pri, mon, day, hh, mm, ss, frac, host, rest = m.groups()
        month = MONTHS.get(mon.lower())
        if month is None:
            return None
        fields: dict[str, Any] = {}
        level = apply_pri(pri, fields)
        d = int(day)
        year = infer_year(month, d, self._clock()) if 1 <= d <= 31 else 1970
        micro = int((frac or "0").ljust(6, "0"))
        ts = build(year, month, d, int(hh), int(mm), int(ss), micro)
        service, pid, message = split_tag(rest, fields)
        return LogRecord(
            message=message,
            timestamp=ts,
            level=level,
            host=host,
            service=service,
            pid=pid,
            fields=fields,
            raw=line,
            format=self.name,
        )
