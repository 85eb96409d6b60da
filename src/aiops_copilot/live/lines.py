"""Bytes that keep arriving, cut into lines that know where they are in the file.

The batch reader (:mod:`aiops_copilot.ingest.reading`) may treat end of input as the end of the
last line; a follower may not: a line without its newline yet is still being written. So
this splitter holds the unfinished tail back and gives every complete line its byte offsets,
which is what lets the follower save "read up to here" and resume after a restart without
losing or repeating a line. Limits are the batch reader's: a line over ``max_line_bytes`` is
cut at a character boundary (the rest is dropped as it streams past, never buffered) and
counted, invalid UTF-8 is replaced and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiops_copilot.ingest.reading import _cut as cut_at_char


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line: its 1-based number, text, and byte span in the file."""

    number: int
    text: str
    start: int
    end: int


class LineSplitter:
    """Incremental ``bytes -> [Line]`` for one file, from a known offset and line number."""

    def __init__(self, max_line_bytes: int, *, offset: int = 0, line_no: int = 0) -> None:
        if max_line_bytes < 4:
            raise ValueError("max_line_bytes must be at least 4")
        self.limit = max_line_bytes
        self._carry = b""
        self._next = offset  # file offset of the first byte not yet part of a complete line
        self._line_no = line_no
        self._skipping = False  # inside the dropped rest of a cut line
        self.invalid_utf8 = 0
        self.cut = 0

    @property
    def consumed(self) -> int:
        """Offset just past the last line handed out (the carry starts here)."""
        return self._next

    @property
    def line_no(self) -> int:
        return self._line_no

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held back."""
        return len(self._carry)

    def feed(self, data: bytes) -> list[Line]:
        lines: list[Line] = []
        if self._skipping:
            newline = data.find(b"\n")
            if newline < 0:
                self._next += len(data)
                return lines
            self._next += newline + 1
            self._skipping = False
            data = data[newline + 1 :]
        buf = self._carry + data if self._carry else data
        base = self._next
        start = 0
        find = buf.find
        while True:
            newline = find(b"\n", start)
            if newline < 0:
                break
            self._line_no += 1
            text = self._decode(buf[start:newline])
            lines.append(Line(self._line_no, text, base + start, base + newline + 1))
            start = newline + 1
        self._carry = buf[start:]
        self._next = base + start
        if len(self._carry) > self.limit + 1:  # +1: room for a "\r" before the newline
            self._line_no += 1
            end = self._next + len(self._carry)
            lines.append(Line(self._line_no, self._decode(self._carry), self._next, end))
            self._next = end
            self._carry = b""
            self._skipping = True
        return lines

    def finish(self) -> list[Line]:
        """The unfinished last line as a line of its own (the file will not grow any more:
        it was rotated away and drained)."""
        if not self._carry:
            return []
        self._line_no += 1
        end = self._next + len(self._carry)
        line = Line(self._line_no, self._decode(self._carry), self._next, end)
        self._next, self._carry = end, b""
        return [line]

    def _decode(self, raw: bytes) -> str:
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        if len(raw) > self.limit:
            raw = cut_at_char(raw, self.limit)
            self.cut += 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.invalid_utf8 += 1
            return raw.decode("utf-8", "replace")
