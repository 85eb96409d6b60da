"""Android ``logcat -v threadtime`` (the default): ``MM-DD hh:mm:ss.mmm  pid  tid L tag: msg``.

Also accepts ``-v year`` (a ``YYYY-`` prefix). Without a year it is inferred like syslog's;
device time has no zone and is taken as UTC. ``--------- beginning of main`` buffer markers are
records of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import build, fraction_to_us, infer_year
from aiops_copilot.models import LogRecord

_LINE = re.compile(
    r"(?:(\d{4})-)?(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3,6}) +(\d{1,10}) +(\d{1,10}) "
    r"([VDIWEFA]) (.*?) *: (.*)"
)


class AndroidLogcatFormat(FormatSpec):
    """logcat threadtime lines."""

    name = "android_logcat"
    aliases = ("logcat", "android")
    description = "Android logcat threadtime: '03-17 16:13:38.811  1702  2395 D Tag: msg'"
    specificity = 0.9
    multiline = True

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line:
            return None
        if line.startswith("--------- beginning of "):
            return LogRecord(message=line, service="logcat", raw=line, format=self.name)
        if not line[0].isdigit():
            return None
        m = _LINE.match(line)
        if m is None:
            return None
        year, mo, d, hh, mm, ss, frac, pid, tid, level, tag, message = m.groups()
        month, day = int(mo), int(d)
        y = int(year) if year else infer_year(month, day, self._clock()) if 1 <= month <= 12 else 0
        ts = build(y, month, day, int(hh), int(mm), int(ss), fraction_to_us(frac)) if y else None
        return LogRecord(
            message=message,
            timestamp=ts,
            level=level_of(level),
            service=tag,
            pid=to_int(pid),
            fields={"tid": to_int(tid)},
            raw=line,
            format=self.name,
        )
