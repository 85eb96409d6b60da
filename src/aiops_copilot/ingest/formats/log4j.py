"""log4j / logback / Spring Boot layouts common on the JVM (Hadoop, Spark, ZooKeeper, Kafka).

Recognised shapes (``TS`` = ``yyyy-MM-dd HH:mm:ss,SSS`` or ``.SSS``, optionally ISO ``T`` and
zone):

* ``TS LEVEL [thread] logger: msg``           (Hadoop/YARN, ``%d %p [%t] %c: %m``)
* ``TS [thread] LEVEL logger - msg``          (``%d [%t] %-5p %c - %m``, the log4j example)
* ``TS LEVEL pid --- [app] [thread] logger : msg`` (Spring Boot, ``[app]`` since 3.2)
* ``yy/MM/dd HH:mm:ss LEVEL logger: msg``     (Spark's default)
* ``TS - LEVEL  [thread:Class@line] - msg``   (ZooKeeper)
* ``TS LEVEL logger - msg`` / ``TS LEVEL logger: msg``

Threads may contain one level of nested brackets (``QuorumPeer[myid=1]/...``). Times without a
zone are taken as UTC.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import build, parse_iso
from aiops_copilot.models import LogRecord

_TS = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)"
# No WARNING/CRITICAL: log4j never writes them, Python logging always does (tells them apart).
_LVL = r"(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)"
_THREAD = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
_LOGGER = r"([\w$.\[\]/:-]+?)"


def _shape(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts))


_SPRING_TAIL = r" +(\d{1,10}) --- (?:\[([^\]]*)\] )?\[ *([^\]]*)\] +(\S+?) *: (.*)"
_ZK_THREAD = r" +\[((?:[^\[\]]|\[[^\[\]]*\])*?)(?::([\w$.]+)@(\d+))?\] - (.*)"

#: (regex, names of its groups in order), tried in this order.
_SHAPES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        _shape(_TS, r" +", _LVL, r" +", _THREAD, r" +", _LOGGER, r": (.*)"),
        ("ts", "level", "thread", "logger", "message"),
    ),
    (
        _shape(_TS, r" +", _LVL, _SPRING_TAIL),
        ("ts", "level", "pid", "app", "thread", "logger", "message"),
    ),
    (
        _shape(_TS, r" - ", _LVL, _ZK_THREAD),
        ("ts", "level", "thread", "logger", "line", "message"),
    ),
    (
        _shape(_TS, r" +", _THREAD, r" +", _LVL, r" +", _LOGGER, r" +- (.*)"),
        ("ts", "thread", "level", "logger", "message"),
    ),
    (
        _shape(_TS, r" +", _LVL, r" +", _LOGGER, r"(?: +-|:) (.*)"),
        ("ts", "level", "logger", "message"),
    ),
)
_SPARK = _shape(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) ", _LVL, r" +", _LOGGER, r": (.*)")


def _match_shape(line: str) -> dict[str, str | None] | None:
    for pattern, names in _SHAPES:
        m = pattern.match(line)
        if m is not None:
            return dict(zip(names, m.groups(), strict=True))
    return None


class Log4jFormat(FormatSpec):
    """JVM logging framework lines (log4j 1/2, logback, Spring Boot)."""

    name = "log4j"
    aliases = ("logback", "spring_boot", "java")
    description = "log4j/logback/Spring Boot: '2015-10-18 18:01:47,978 INFO [main] a.B: msg'"
    specificity = 0.7
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if len(line) < 20 or not line[0].isdigit():
            return None
        if line[2] == "/":
            return self._spark(line)
        if line[4] != "-":
            return None
        values = _match_shape(line)
        if values is None:
            return None
        fields: dict[str, Any] = {}
        for key in ("thread", "app"):
            value = values.get(key)
            if value:
                fields[key] = value.strip()
        if values.get("line"):
            fields["line"] = to_int(values["line"])
        logger = values.get("logger")
        if logger:
            fields["logger"] = logger
        return LogRecord(
            message=values["message"] or "",
            timestamp=parse_iso(values["ts"] or ""),
            level=level_of(values["level"]),
            service=logger or None,
            pid=to_int(values.get("pid")),
            fields=fields,
            raw=line,
            format=self.name,
        )

    def _spark(self, line: str) -> LogRecord | None:
        m = _SPARK.match(line)
        if m is None:
            return None
        yy, mo, d, hh, mm, ss, level, logger, message = m.groups()
        ts = build(2000 + int(yy), int(mo), int(d), int(hh), int(mm), int(ss))
        return LogRecord(
            message=message,
            timestamp=ts,
            level=level_of(level),
            service=logger,
            fields={"logger": logger},
            raw=line,
            format=self.name,
        )
