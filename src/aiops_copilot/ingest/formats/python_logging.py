"""Python ``logging`` output in the shapes people actually leave configured.

* ``logging.basicConfig()`` default: ``LEVEL:logger:message``
* ``%(asctime)s - %(name)s - %(levelname)s - %(message)s`` (the logging cookbook's format)
* ``%(asctime)s %(levelname)s %(name)s: %(message)s`` and ``%(asctime)s [%(levelname)s] ...``

Only Python's own level names are accepted, which keeps this from claiming arbitrary
``WORD:word:text`` lines. ``asctime`` has no zone (local time) and is taken as UTC.
"""

from __future__ import annotations

import re

from aiops_copilot.ingest.formats._util import level_of, strip_eol
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.timeparse import parse_iso
from aiops_copilot.models import LogRecord

_LEVELS = r"(CRITICAL|FATAL|ERROR|WARNING|WARN|INFO|DEBUG|NOTSET)"
_TS = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d{1,6})?)"
_SHAPES = (
    re.compile(_LEVELS + r":([\w.<>\[\]-]*):(.*)"),
    re.compile(_TS + r" - ([^\s]+) - " + _LEVELS + r" - (.*)"),
    re.compile(_TS + r" \[?" + _LEVELS + r"\]? +([\w.<>-]+): (.*)"),
    re.compile(_TS + r" - " + _LEVELS + r" - (.*)"),
)


class PythonLoggingFormat(FormatSpec):
    """Python standard-library logging lines."""

    name = "python_logging"
    aliases = ("python",)
    description = "Python logging: 'ERROR:app.db:msg' and asctime-based default shapes"
    specificity = 0.6
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        line = strip_eol(line)
        if not line:
            return None
        first = line[0]
        if first.isdigit():
            for index in (1, 2, 3):
                m = _SHAPES[index].match(line)
                if m is not None:
                    break
            else:
                return None
            groups = m.groups()
            if index == 1:
                stamp, logger, level, message = groups
            elif index == 2:
                stamp, level, logger, message = groups
            else:
                stamp, level, message = groups
                logger = None
            timestamp = parse_iso(stamp)
        elif first in "CFEWIDN":
            m = _SHAPES[0].match(line)
            if m is None:
                return None
            level, logger, message = m.groups()
            timestamp = None
        else:
            return None
        return LogRecord(
            message=message,
            timestamp=timestamp,
            level=level_of(level),
            service=logger or None,
            raw=line,
            format=self.name,
        )
