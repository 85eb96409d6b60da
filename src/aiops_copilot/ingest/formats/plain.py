"""The format of last resort: every line that is not a stack-trace continuation is a record.

Used when a sample is empty or nothing else recognises it (e.g. a program's bare stderr). It
still refuses continuation lines so that tracebacks fold into one record.
"""

from __future__ import annotations

from aiops_copilot.ingest.formats._continuation import looks_like_continuation
from aiops_copilot.ingest.formats._util import strip_eol
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.models import LogRecord


class PlainFormat(FormatSpec):
    """Unstructured text: the line is the message."""

    name = "plain"
    aliases = ("text", "raw")
    description = "unstructured text, one record per line (stack traces folded)"
    specificity = 0.05
    multiline = True

    def parse(self, line: str) -> LogRecord | None:
        text = strip_eol(line)
        if not text.strip() or looks_like_continuation(text):
            return None
        return LogRecord(message=text, raw=text, format=self.name)
