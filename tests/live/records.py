"""Log lines to records the way the batch reader makes them (real detection and folding)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.models import LogRecord


def records_of(lines: list[str], source: str = "app.log") -> list[LogRecord]:
    detection = detect_format(lines)
    return list(
        fold_records(
            enumerate(lines, 1), detection.parser, multiline=detection.spec.multiline, source=source
        )
    )


def app_line(start: datetime, second: float, message: str, level: str = "INFO") -> str:
    """A Python ``logging`` line: ``2026-11-23 23:00:00,000 INFO worker: message``."""
    moment = start + timedelta(seconds=second)
    return f"{moment:%Y-%m-%d %H:%M:%S},{moment.microsecond // 1000:03d} {level} worker: {message}"
