"""The shared vocabulary every stage speaks.

Stages pass plain dataclasses so that a record read from a file, from stdin or (later) from an
HTTP push looks the same to the miner and the detectors. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    """One severity scale for every source (syslog, Python, log4j, Go, nginx ... all map here)."""

    UNKNOWN = 0
    TRACE = 5
    DEBUG = 10
    INFO = 20
    NOTICE = 25
    WARNING = 30
    ERROR = 40
    CRITICAL = 50
    ALERT = 60
    EMERGENCY = 70


_LEVEL_WORDS: dict[str, Level] = {
    "trace": Level.TRACE,
    "finest": Level.TRACE,
    "finer": Level.TRACE,
    "verbose": Level.TRACE,
    "v": Level.TRACE,
    "debug": Level.DEBUG,
    "dbug": Level.DEBUG,
    "fine": Level.DEBUG,
    "d": Level.DEBUG,
    "debug1": Level.DEBUG,
    "debug2": Level.DEBUG,
    "debug3": Level.DEBUG,
    "debug4": Level.DEBUG,
    "debug5": Level.DEBUG,
    "info": Level.INFO,
    "information": Level.INFO,
    "informational": Level.INFO,
    "i": Level.INFO,
    "log": Level.INFO,
    "config": Level.INFO,
    "statement": Level.INFO,
    "detail": Level.INFO,
    "hint": Level.INFO,
    "notice": Level.NOTICE,
    "note": Level.NOTICE,
    "n": Level.NOTICE,
    "warn": Level.WARNING,
    "warning": Level.WARNING,
    "w": Level.WARNING,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "eror": Level.ERROR,
    "e": Level.ERROR,
    "severe": Level.ERROR,
    "failure": Level.ERROR,
    "fail": Level.ERROR,
    "critical": Level.CRITICAL,
    "crit": Level.CRITICAL,
    "fatal": Level.CRITICAL,
    "f": Level.CRITICAL,
    "panic": Level.EMERGENCY,
    "alert": Level.ALERT,
    "emerg": Level.EMERGENCY,
    "emergency": Level.EMERGENCY,
}

#: syslog numeric severities (RFC 5424 section 6.2.1) onto our scale.
SYSLOG_SEVERITIES: tuple[Level, ...] = (
    Level.EMERGENCY,
    Level.ALERT,
    Level.CRITICAL,
    Level.ERROR,
    Level.WARNING,
    Level.NOTICE,
    Level.INFO,
    Level.DEBUG,
)


def parse_level(word: str | int | None) -> Level:
    """Map a level word or number from any source onto :class:`Level`.

    Numbers below 8 are syslog severities; larger numbers follow bunyan/pino (10..60).
    Unknown words give ``Level.UNKNOWN`` rather than a guess.
    """
    if word is None:
        return Level.UNKNOWN
    if isinstance(word, int) and not isinstance(word, bool):
        if 0 <= word < len(SYSLOG_SEVERITIES):
            return SYSLOG_SEVERITIES[word]
        # bunyan/pino, the usual numeric levels in JSON logs: 10 trace ... 60 fatal.
        for floor, level in (
            (60, Level.CRITICAL),
            (50, Level.ERROR),
            (40, Level.WARNING),
            (30, Level.INFO),
            (20, Level.DEBUG),
        ):
            if word >= floor:
                return level
        return Level.TRACE
    text = str(word).strip().strip("[]<>():").lower()
    if text.isdigit():
        return parse_level(int(text))
    return _LEVEL_WORDS.get(text, Level.UNKNOWN)


@dataclass(slots=True)
class LogRecord:
    """One logical log record after decoding, possibly folded from several physical lines.

    ``line_no``/``end_line`` are 1-based physical line numbers in ``source`` so that every later
    stage (incidents, diagnoses) can cite exactly where the evidence came from.
    """

    message: str
    timestamp: datetime | None = None
    level: Level = Level.UNKNOWN
    host: str | None = None
    service: str | None = None
    pid: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    line_no: int = 0
    end_line: int = 0
    raw: str = ""
    format: str = ""

    @property
    def is_multiline(self) -> bool:
        return self.end_line > self.line_no
