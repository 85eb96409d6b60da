"""Apache httpd ``ErrorLog`` in the 2.2 and 2.4 layouts.

* 2.2: ``[Sun Dec 04 04:47:44 2005] [notice] message``
* 2.4: ``[Mon Nov 23 10:00:00.123456 2026] [module:level] [pid N:tid M] [client ip:port] msg``

The ``AHnnnnn`` message code goes to ``fields["code"]`` (it identifies the message type across
versions) but stays in the message. Times have no zone and are taken as UTC.
"""

from __future__ import annotations

import re
from typing import Any

from aiops_copilot.ingest.formats._util import level_of, strip_eol, to_int
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import MONTHS, build
from aiops_copilot.models import LogRecord

_HEAD = re.compile(
    r"\[(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? "
    r"(\d{4})\] \[(?:([\w-]+):)?([a-z]+\d?)\] "
    r"(?:\[pid (\d{1,10})(?::tid (\d{1,20}))?\] )?(?:\[client ([^\]]*)\] )?(.*)"
)
_CODE = re.compile(r"(?:\(\d+\)[^:]*: )?(AH\d{5}):")


class ApacheErrorFormat(FormatSpec):
    """Apache httpd error log lines."""

    name = "apache_error"
    description = "Apache error log: '[Sun Dec 04 04:47:44 2005] [notice] msg' and 2.4 form"
    specificity = 0.9
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line.startswith("["):
            return None
        m = _HEAD.match(line)
        if m is None:
            return None
        mon, day, hh, mm, ss, frac, year, module, level, pid, tid, client, message = m.groups()
        month = MONTHS.get(mon.lower())
        ts = None
        if month is not None:
            micro = int((frac or "0").ljust(6, "0"))
            ts = build(int(year), month, int(day), int(hh), int(mm), int(ss), micro)
        fields: dict[str, Any] = {}
        if module:
            fields["module"] = module
        if tid:
            fields["tid"] = to_int(tid)
        if client:
            fields["client"] = client
        code = _CODE.match(message)
        if code:
            fields["code"] = code.group(1)
        return LogRecord(
            message=message,
            timestamp=ts,
            level=level_of(level),
            service="apache",
            pid=to_int(pid),
            fields=fields,
            raw=line,
            format=self.name,
        )
