"""Fold physical lines into logical records (stack traces, PostgreSQL DETAIL lines, ...).

A line the parser accepts starts a new record. Any other line joins the open record when it
looks like a continuation (indented, ``at ...``, ``Caused by:``, goroutine dumps ...) or when the
format is multi-line; otherwise it becomes a record of its own with level UNKNOWN, so no input
is ever dropped. Two small states handle lines that would otherwise *parse* as a new head:
the exception line closing a Python traceback (``ValueError: x``) and the error line after a
Node/Python source caret (``    ^``).

Records are built from lists and joined once, and are cut at ``max_record_lines`` /
``max_record_chars`` so one runaway trace cannot exhaust memory; the rest of it then continues
as new records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from aiops_copilot.ingest.formats._continuation import (
    is_caret_line,
    is_python_exception_line,
    is_traceback_head,
    looks_like_continuation,
)
from aiops_copilot.ingest.formats.base import LineParser
from aiops_copilot.ingest.formats.header_time import match_timestamp, to_datetime
from aiops_copilot.models import LogRecord


class _Open:
    """A record being assembled; the part lists exist only once something is folded in."""

    __slots__ = ("after_caret", "await_exception", "chars", "messages", "raws", "record", "stream")

    def __init__(self, record: LogRecord, line: str) -> None:
        self.record = record
        self.messages: list[str] | None = None
        self.raws: list[str] | None = None
        self.chars = len(line)
        stream = record.fields.get("stream") if record.fields else None
        self.stream = stream if isinstance(stream, str) else None
        self.await_exception = is_traceback_head(record.message)
        self.after_caret = False

    def add(self, message: str, raw: str, line_no: int, blanks: list[str]) -> None:
        if self.messages is None or self.raws is None:
            self.messages = [self.record.message]
            self.raws = [self.record.raw]
        if blanks:
            self.messages.extend(blanks)
            self.raws.extend(blanks)
        self.messages.append(message)
        self.raws.append(raw)
        self.chars += len(raw) + 1 + len(blanks)
        self.record.end_line = line_no
        if is_traceback_head(message):
            self.await_exception = True
        elif self.await_exception and message[:1] not in (" ", "\t"):
            self.await_exception = False  # this was the exception line
        self.after_caret = is_caret_line(message)

    def wants(self, message: str) -> bool:
        """Does the open record claim ``message`` even though it may parse as a head?"""
        if self.await_exception:
            return message[:1] in (" ", "\t") or is_python_exception_line(message)
        return self.after_caret

    def too_big(self, text: str, blanks: list[str], max_lines: int, max_chars: int) -> bool:
        lines = (len(self.messages) if self.messages else 1) + len(blanks) + 1
        return lines > max_lines or self.chars + len(text) + len(blanks) + 1 > max_chars

    def finish(self) -> LogRecord:
        record = self.record
        if self.messages is not None and self.raws is not None:
            record.message = "\n".join(self.messages)
            record.raw = "\n".join(self.raws)
        return record


def fold_records(
    lines: Iterable[tuple[int, str]],
    parser: LineParser,
    *,
    multiline: bool,
    source: str,
    max_record_lines: int = 2000,
    max_record_chars: int = 1_000_000,
) -> Iterator[LogRecord]:
    """Turn ``(line_no, text)`` pairs into records, folding continuations (see module doc)."""
    continuation = getattr(parser, "continuation", None)
    current: _Open | None = None
    blanks: list[str] = []
    for line_no, raw_text in lines:
        text = raw_text.rstrip("\r\n")
        if not text.strip():
            # Kept only if more of the record follows; trailing blanks vanish.
            if current is not None and len(blanks) < max_record_lines:
                blanks.append(text)
            continue
        record = parser.parse(text)
        fold = None
        if (
            current is not None
            and record is not None
            and multiline
            and not current.await_exception
            and not current.after_caret
        ):
            pass  # fast path: a new head in a header format
        elif current is not None:
            fold = _fold_text(current, record, text, multiline, continuation)
            if fold is not None and current.too_big(text, blanks, max_record_lines,
                                                    max_record_chars):  # fmt: skip
                yield current.finish()
                current, fold = None, None
        if current is not None and fold is not None:
            message, extra_fields = fold
            current.add(message, text, line_no, blanks)
            for key, value in extra_fields.items():
                current.record.fields.setdefault(key, value)
            blanks = []
            continue
        if current is not None:
            yield current.finish()
        blanks = []
        if record is None:
            record = LogRecord(message=text, raw=text, format=parser.format_name)
        elif not record.raw:
            record.raw = text
        record.source = source
        record.line_no = record.end_line = line_no
        if not record.format:
            record.format = parser.format_name
        current = _Open(record, text)
    if current is not None:
        yield current.finish()


def _fold_text(
    current: _Open,
    record: LogRecord | None,
    text: str,
    multiline: bool,
    continuation: Callable[[str], tuple[str, dict[str, Any]] | None] | None,
) -> tuple[str, dict[str, Any]] | None:
    """What to append to ``current`` for this line (text, fields), or ``None`` to start anew."""
    wanted = current.wants(text)
    if record is None or wanted:
        extra = continuation(text) if continuation is not None else None
        if extra is not None:
            return extra
        if not wanted and starts_with_date(text):
            # A line opening with a full date is a record of its own even when the source's
            # detected format does not parse it (two writers sharing one file, a changed
            # logging config): folding it would hide a WARNING inside a DEBUG record.
            return None
        if wanted or multiline or looks_like_continuation(text):
            return text, {}
        return None
    if not multiline and _continues(current, record):
        return record.message, {}
    return None


def starts_with_date(text: str) -> bool:
    """True when the line begins (optionally after ``[``) with a timestamp that has a date."""
    if not text or not (text[0].isdigit() or text[0] == "[" or text[0].isalpha()):
        return False
    pos = 1 if text[0] == "[" else 0
    found = match_timestamp(text, pos)
    return found is not None and not found.groupdict().get("e") and to_datetime(found) is not None


def _continues(current: _Open, record: LogRecord) -> bool:
    """In line-per-record formats (container logs) a stack trace arrives as one parsed record
    per frame; the frame's *message* then continues the open record of the same stream."""
    stream = record.fields.get("stream")
    if current.stream is not None and stream != current.stream:
        return False
    message = record.message
    return looks_like_continuation(message) or current.wants(message)
