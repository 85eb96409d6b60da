"""Redis server log: ``pid:role dd Mon yyyy hh:mm:ss.mmm <level-char> message``.

Role characters: ``M`` master, ``S`` replica, ``C`` forked child (RDB/AOF), ``X`` sentinel.
Level characters (redis.conf ``loglevel``): ``.`` debug, ``-`` verbose, ``*`` notice,
``#`` warning. Redis' "notice" is its normal production level, so ``*`` maps to INFO and
``-`` (verbose) to DEBUG; only ``#`` is a warning. Also reads the Redis 2.x form
``[pid] dd Mon hh:mm:ss.mmm * msg`` (no year: inferred). Times are taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiops_copilot.ingest.formats._util import strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import MONTHS, build, fraction_to_us, infer_year
from aiops_copilot.models import Level, LogRecord

_LINE = re.compile(
    r"(?:(\d{1,10}):([XCSM])|\[(\d{1,10})\]) (\d{1,2}) ([A-Z][a-z]{2})(?: (\d{4}))? "
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([.*#-]) (.*)"
)
_ROLES = {"M": "master", "S": "replica", "C": "child", "X": "sentinel"}
_LEVELS = {".": Level.DEBUG, "-": Level.DEBUG, "*": Level.INFO, "#": Level.WARNING}


class RedisFormat(FormatSpec):
    """Redis server log lines."""

    name = "redis"
    description = "Redis: '1234:M 23 Nov 2026 10:00:00.123 * msg'"
    specificity = 0.9
    multiline = True

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line or not (line[0].isdigit() or line[0] == "["):
            return None
        m = _LINE.match(line)
        if m is None:
            return None
        pid, role, old_pid, day, mon, year, hh, mm, ss, frac, char, message = m.groups()
        month = MONTHS.get(mon.lower())
        ts = None
        if month is not None:
            d = int(day)
            y = int(year) if year else infer_year(month, d, self._clock())
            ts = build(y, month, d, int(hh), int(mm), int(ss), fraction_to_us(frac))
        fields: dict[str, Any] = {}
        if role:
            fields["role"] = _ROLES[role]
        return LogRecord(
            message=message,
            timestamp=ts,
            level=_LEVELS[char],
            service="redis",
            pid=to_int(pid or old_pid),
            fields=fields,
            raw=line,
            format=self.name,
        )
