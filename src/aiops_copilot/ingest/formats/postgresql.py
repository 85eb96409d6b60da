"""PostgreSQL server log (``log_destination = stderr``) with the usual ``log_line_prefix`` values.

Handles the upstream default ``'%m [%p] '``, Debian's ``'%m [%p] %q%u@%d '`` and the pgBadger
style ``'%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '``: whatever sits between ``[pid]``
and the severity is read as ``user@db`` or ``k=v,k=v`` pairs. The two spaces after the severity
(``LOG:  ``) are PostgreSQL's own and make the line unambiguous.

``DETAIL``/``HINT``/``STATEMENT``/``CONTEXT``/``QUERY``/``LOCATION`` lines belong to the record
before them: :meth:`PostgresqlFormat.parse` returns ``None`` for them and
:meth:`PostgresqlFormat.continuation` tells multi-line folding what to append (the text without
the repeated prefix) and which field to set (``detail``, ``statement``, ...).
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import build, fraction_to_us, zone
from aiops_copilot.models import LogRecord

_SEVERITIES = (
    "LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|STATEMENT|CONTEXT|QUERY"
    "|LOCATION"
)
_LINE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r"(?: ([A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?))?"
    r" \[(\d{1,10})\]:? (.{0,400}?)(" + _SEVERITIES + r"):  (.*)"
)
_SESSION_LINE = re.compile(r"\[(\d{1,18})-(\d{1,18})\]")
_USER_DB = re.compile(r"([^\s@=,\[]*)@(\S*)")
_CONTINUATIONS = frozenset(("DETAIL", "HINT", "STATEMENT", "CONTEXT", "QUERY", "LOCATION"))
_PREFIX_KEYS = {"user": "user", "db": "database", "app": "application", "client": "client",
                "host": "client", "database": "database"}  # fmt: skip


def _prefix_fields(prefix: str, fields: dict[str, Any]) -> None:
    prefix = prefix.strip()
    if not prefix:
        return
    m = _SESSION_LINE.match(prefix)
    if m:
        fields["session_line"] = to_int(m.group(1))
        prefix = prefix[m.end() :].strip()
    if "=" in prefix:
        for part in prefix.split(","):
            key, _, value = part.strip().partition("=")
            name = _PREFIX_KEYS.get(key)
            if name and value and value != "[unknown]":
                fields[name] = value
        return
    m = _USER_DB.fullmatch(prefix)
    if m:
        if m.group(1):
            fields["user"] = m.group(1)
        if m.group(2):
            fields["database"] = m.group(2)
    elif prefix:
        fields["prefix"] = prefix


class PostgresqlFormat(FormatSpec):
    """PostgreSQL stderr log lines."""

    name = "postgresql"
    aliases = ("postgres", "pg")
    description = "PostgreSQL: '2026-11-23 10:00:00.123 UTC [1234] LOG:  msg' (+ %t/%l/user/db)"
    specificity = 0.9
    multiline = True

    def _match(self, line: str) -> re.Match[str] | None:
        if len(line) < 24 or not line[0].isdigit() or line[4] != "-":
            return None
        return _LINE.match(line)

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        m = self._match(line)
        if m is None:
            return None
        y, mo, d, hh, mm, ss, frac, tzname, pid, prefix, severity, message = m.groups()
        if severity in _CONTINUATIONS:
            return None
        fields: dict[str, Any] = {}
        tz = zone(tzname)
        if tz is None:  # a zone abbreviation like CET: unknowable offset, keep the name
            fields["tz_name"] = tzname
        _prefix_fields(prefix, fields)
        return LogRecord(
            message=message,
            timestamp=build(
                int(y), int(mo), int(d), int(hh), int(mm), int(ss), fraction_to_us(frac), tz
            ),
            level=level_of(severity),
            service="postgres",
            pid=to_int(pid),
            fields=fields,
            raw=line,
            format=self.name,
        )

    def continuation(self, line: str) -> tuple[str, dict[str, Any]] | None:
        """For a ``DETAIL:``-style line: (text to append, fields to merge); else ``None``."""
        m = self._match(strip_eol(line))
        if m is None or m.group(11) not in _CONTINUATIONS:
            return None
        severity, text = m.group(11), m.group(12)
        return f"{severity}:  {text}", {severity.lower(): text}
