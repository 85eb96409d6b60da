"""Where a source may be cut into partitions without changing a single record.

A partition is read by a worker that knows nothing of the lines before it, so a cut must fall
where :func:`~aiops_copilot.ingest.multiline.fold_records` would start a new record whatever
came before: never inside a stack trace, after a source caret, or before the exception line
that closes a Python traceback. :func:`record_start_rule` encodes that; the two finders move a
wanted cut forward to the first line that satisfies it:

* :func:`plain_cuts` for uncompressed files: byte offsets of line starts.
* :func:`gzip_cuts` for ``.gz`` files made of several members (``cat a.gz b.gz``, pigz
  ``--independent``, rotated logs concatenated): a member is the smallest unit that can be
  decompressed on its own, so cuts are member starts, found by decompressing once in the driver
  (about 300 MB/s, a small share of what parsing costs). A single-member ``.gz`` is never cut.

When no line in the allowed stretch qualifies the cut is dropped and the partition grows; the
result is always correct, only less parallel.
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from aiops_copilot.ingest.formats._continuation import (
    is_caret_line,
    is_python_exception_line,
    looks_like_continuation,
)
from aiops_copilot.ingest.formats.base import LineParser

#: ``(previous line, line) -> may a partition start at line?``
StartRule = Callable[[str, str], bool]

_GZIP_MAGIC = b"\x1f\x8b\x08"
_STEP = 1 << 20
_KEEP = 64 * 1024
_WINDOW = 1 << 20


def record_start_rule(parser: LineParser | None, *, multiline: bool) -> StartRule:
    """The rule for a source read with ``parser`` (``None``: every line is a record, as with
    ``--content-only``).

    A line qualifies when it and the line before it are not blank (blank lines may belong to
    the record before), the line before is not a caret line, and the line parses as a record
    head that no folding state could claim: not indented, not a continuation, not a Python
    exception line (which closes a traceback). In line-per-record formats (container logs)
    the parsed message is checked too, since a frame's message continues the record before.
    """
    if parser is None:
        return lambda previous, line: True
    continuation = getattr(parser, "continuation", None)

    def messages(line: str) -> list[str]:
        found = [line]
        record = parser.parse(line)
        if record is not None:
            found.append(record.message)
        if continuation is not None:
            extra = continuation(line)
            if extra is not None:
                found.append(extra[0])
        return found

    def starts(previous: str, line: str) -> bool:
        if not previous.strip() or not line.strip():
            return False
        if any(is_caret_line(text) for text in messages(previous)):
            return False
        record = parser.parse(line)
        if record is None:
            return False
        texts = [line] if multiline else [line, record.message]
        return not any(
            text[:1] in (" ", "\t")
            or looks_like_continuation(text)
            or is_python_exception_line(text)
            for text in texts
        )

    return starts


def _decode(raw: bytes, limit: int) -> str:
    return raw[:limit].rstrip(b"\r\n").decode("utf-8", "replace")


def _lines_after(fh: BinaryIO, position: int, limit: int) -> Iterator[tuple[int, str]]:
    """``(offset, text)`` of each complete line starting after ``position``; a line longer
    than ``limit`` bytes is read in pieces and only its head decoded."""
    fh.seek(position)
    offset = position
    head = b""
    start = offset
    while True:
        piece = fh.readline(limit + 2)
        if not piece:
            return
        if not head:
            start = offset
            head = piece
        offset += len(piece)
        if piece.endswith(b"\n"):
            yield start, _decode(head, limit)
            head = b""


def plain_cuts(
    path: Path, size: int, every: int, starts: StartRule, *, max_line_bytes: int = 65536
) -> list[int]:
    """Offsets where partitions of about ``every`` bytes start (always ``0`` first)."""
    cuts = [0]
    wanted = every
    with path.open("rb") as fh:
        while wanted < size:
            # Look as far as the next wanted cut, and never less than _WINDOW: a source with
            # long records and small partitions still gets cut.
            high = min(size, wanted + max(every, _WINDOW))
            found = _start_between(fh, wanted, high, starts, max_line_bytes)
            if found is None:
                wanted = high  # nothing qualifies before high: look on from there
                continue
            cuts.append(found)
            wanted = found + every
    return cuts


def _start_between(fh: BinaryIO, low: int, high: int, starts: StartRule, limit: int) -> int | None:
    """The first line start in ``[low, high)`` that the rule accepts. Reading begins at
    ``low - 1`` so that a line starting exactly at ``low`` is seen; the first complete line
    only serves as the previous line of the next one."""
    fh.seek(low - 1)
    fh.readline()  # the rest of the line that holds byte low - 1
    previous: str | None = None
    for offset, text in _lines_after(fh, fh.tell(), limit):
        if offset >= high:
            return None
        if previous is not None and offset >= low and starts(previous, text):
            return offset
        previous = text
    return None


def _first_line(head: bytes) -> bytes | None:
    end = head.find(b"\n")
    return head[:end] if end >= 0 else None


def _last_line(tail: bytes) -> bytes | None:
    if not tail.endswith(b"\n"):
        return None
    begin = tail.rfind(b"\n", 0, len(tail) - 1)
    return tail[begin + 1 : -1]


class _Member:
    __slots__ = ("end", "head", "out", "start", "tail")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.out = 0
        self.head = b""
        self.tail = b""

    def take(self, data: bytes) -> None:
        self.out += len(data)
        if len(self.head) < _KEEP:
            self.head += data[: _KEEP - len(self.head)]
        self.tail = (self.tail + data)[-_KEEP:]


def gzip_members(path: Path) -> list[_Member] | None:
    """Every member of a ``.gz`` with its compressed span, output size and first and last
    bytes; ``None`` when the file is one member (no gzip magic after the start, found at
    memory speed), or damaged (the worker that reads it reports the damage)."""
    with path.open("rb") as fh:
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
                if view.find(_GZIP_MAGIC, 1) < 0:
                    return None
        except (ValueError, OSError):  # empty or unmappable: read it whole
            return None
        members: list[_Member] = []
        position = 0
        pending = b""
        current: _Member | None = None
        decompressor: zlib._Decompress | None = None
        while True:
            if not pending:
                pending = fh.read(_STEP)
                if not pending:
                    break
            if decompressor is None:
                stripped = pending.lstrip(b"\x00")  # padding between members, as gzip allows
                position += len(pending) - len(stripped)
                pending = stripped
                if not pending:
                    continue
                current = _Member(position)
                decompressor = zlib.decompressobj(wbits=31)
            assert current is not None
            try:
                out = decompressor.decompress(pending, _STEP)
            except zlib.error:
                return None
            eof = decompressor.eof
            rest = decompressor.unused_data if eof else decompressor.unconsumed_tail
            position += len(pending) - len(rest)
            pending = rest
            current.take(out)
            if eof:
                current.end = position
                members.append(current)
                decompressor = None
        if decompressor is not None:  # the last member was cut short
            return None
    return members if len(members) > 1 else None


def gzip_cuts(
    path: Path, every: int, starts: StartRule, *, max_line_bytes: int = 65536
) -> list[tuple[int, int]] | None:
    """Compressed ``(start, end)`` spans of about ``every`` uncompressed bytes each, cut only
    at member starts the rule accepts; ``None`` when the file cannot or need not be cut."""
    members = gzip_members(path)
    if members is None:
        return None
    spans: list[tuple[int, int]] = []
    start = 0
    gathered = 0
    for before, member in pairwise(members):
        gathered += before.out
        if gathered < every:
            continue
        last, first = _last_line(before.tail), _first_line(member.head)
        if last is None or first is None:
            continue
        if starts(_decode(last, max_line_bytes), _decode(first, max_line_bytes)):
            spans.append((start, member.start))
            start, gathered = member.start, 0
    if not spans:
        return None
    spans.append((start, members[-1].end))
    return spans
