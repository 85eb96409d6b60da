"""Syslog protocol (RFC 5424): ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG``.

Written by rsyslog's ``RSYSLOG_SyslogProtocol23Format``, syslog-ng and most network appliances.
Structured-data parameters land in ``fields`` as ``"<sd-id>.<name>"`` so they stay searchable
without a nested structure; ``-`` (nil) values are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.formats.syslog_rfc3164 import apply_pri
from aiops_copilot.ingest.timeparse import parse_iso
from aiops_copilot.models import LogRecord

_HEAD = re.compile(r"<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ?")
_PARAM = re.compile(r'\s*([^\s=\]"]+)="((?:[^"\\]|\\.)*)"')
_UNESCAPE = re.compile(r"\\([\"\\\]])")


def parse_structured_data(text: str, fields: dict[str, Any]) -> str:
    """Consume ``[id k="v" ...][id2 ...]`` from the start of ``text``; return what follows.

    Values may contain escaped ``"``, ``\\`` and ``]`` (RFC 5424 section 6.3.3), so this walks the
    brackets instead of using one regex. Malformed data is left in the message untouched.
    """
    if text.startswith("- ") or text == "-":
        return text[2:]
    pos = 0
    while pos < len(text) and text[pos] == "[":
        end_id = pos + 1
        while end_id < len(text) and text[end_id] not in " ]":
            end_id += 1
        sd_id = text[pos + 1 : end_id]
        cursor = end_id
        params: dict[str, str] = {}
        while True:
            m = _PARAM.match(text, cursor)
            if m is None:
                break
            params[m.group(1)] = _UNESCAPE.sub(r"\1", m.group(2))
            cursor = m.end()
        if cursor >= len(text) or text[cursor] != "]" or not sd_id:
            return text  # malformed: keep everything as message
        for key, value in params.items():
            fields[f"{sd_id}.{key}"] = value
        pos = cursor + 1
    return text[pos:]


class SyslogRfc5424Format(FormatSpec):
    """RFC 5424 syslog lines."""

    name = "syslog_rfc5424"
    description = "syslog protocol: '<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] msg'"
    specificity = 0.9
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line.startswith("<"):
            return None
        m = _HEAD.match(line)
        if m is None:
            return None
        pri, version, stamp, host, app, procid, msgid = m.groups()
        fields: dict[str, Any] = {}
        if version != "1":
            fields["syslog_version"] = version
        level = apply_pri(pri, fields)
        if msgid != "-":
            fields["msgid"] = msgid
        pid = to_int(procid) if procid != "-" else None
        if pid is None and procid != "-":
            fields["procid"] = procid
        message = parse_structured_data(line[m.end() :], fields)
        # rsyslog puts the message's own leading space after the SD separator; a BOM may follow.
        message = message.lstrip(" ").removeprefix("\ufeff")
        return LogRecord(
            message=message,
            timestamp=parse_iso(stamp) if stamp != "-" else None,
            level=level,
            host=None if host == "-" else host,
            service=None if app == "-" else app,
            pid=pid,
            fields=fields,
            raw=line,
            format=self.name,
        )
