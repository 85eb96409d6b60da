"""Syslog on the wire: TCP framing (RFC 6587) and messages (RFC 5424 and RFC 3164) to records.

Kept apart from the sockets (:mod:`aiops_copilot.live.syslog`) so both halves can be tested
on bytes alone. The message parsers are the file formats' own
(:mod:`~aiops_copilot.ingest.formats.syslog_rfc5424`,
:mod:`~aiops_copilot.ingest.formats.syslog_rfc3164`): a line in ``/var/log/syslog`` and the
same message received over UDP become the same record, so they mine into the same template.

What the network adds: a message may lack the hostname or the timestamp (devices and
``logger`` often send ``<13>app: text``; RFC 3164 section 4.3 says to accept it), so the
sender's address and the time of receipt fill in; a message may span lines (a stack trace in
one octet-counted frame); and anything without a valid ``<PRI>`` is malformed: counted, not
guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiops_copilot.ingest.formats.syslog_rfc3164 import SyslogRfc3164Format, apply_pri, split_tag
from aiops_copilot.ingest.formats.syslog_rfc5424 import SyslogRfc5424Format
from aiops_copilot.ingest.reading import _cut as cut_at_char
from aiops_copilot.models import LogRecord

_PRI = re.compile(r"<(\d{1,3})>")
_RFC5424 = SyslogRfc5424Format()
_RFC3164 = SyslogRfc3164Format()
#: Digits a frame length may have (RFC 6587 octet counting): 10 is far beyond any message.
_MAX_LEN_DIGITS = 10


@dataclass(slots=True)
class FrameCounts:
    frames: int = 0
    oversize: int = 0
    malformed: int = 0


class Framer:
    """Bytes of one TCP connection -> message frames, both RFC 6587 framings.

    A frame that starts with a digit is octet-counted (``LEN SP MSG``); anything else runs to
    the next newline (non-transparent framing; a trailing NUL or CR is dropped). A message
    over ``max_bytes`` keeps its first ``max_bytes`` and is counted as oversize; the rest is
    skipped as it arrives, never buffered.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.counts = FrameCounts()
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversize octet-counted frame still to drop
        self._skip_line = False  # dropping the rest of an oversize newline-framed message
        #: Set when the stream can no longer be framed (a bad length): close the connection.
        self.broken = False

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        buf = self._buf
        buf += data
        while buf and not self.broken:
            if self._skip:
                dropped = min(self._skip, len(buf))
                del buf[:dropped]
                self._skip -= dropped
                continue
            if self._skip_line:
                newline = buf.find(b"\n")
                if newline < 0:
                    buf.clear()
                    break
                del buf[: newline + 1]
                self._skip_line = False
                continue
            frame = self._octet(buf) if buf[:1].isdigit() else self._line(buf)
            if frame is None:
                break
            if frame:
                frames.append(frame)
        self.counts.frames += len(frames)
        return frames

    def close(self) -> list[bytes]:
        """The connection ended: a last newline-framed message without its newline counts;
        a cut-off octet-counted one is malformed."""
        rest, self._buf = bytes(self._buf), bytearray()
        if not rest.strip(b"\r\n\x00 ") or self._skip or self._skip_line:
            return []
        if rest[:1].isdigit():
            self.counts.malformed += 1
            return []
        self.counts.frames += 1
        return [rest.rstrip(b"\r\n\x00")]

    def _octet(self, buf: bytearray) -> bytes | None:
        space = buf.find(b" ", 0, _MAX_LEN_DIGITS + 1)
        if space < 0:
            if len(buf) > _MAX_LEN_DIGITS:
                self._lost()
            return None
        digits = bytes(buf[:space])
        if not digits.isdigit() or digits[:1] == b"0":
            self._lost()
            return None
        length = int(digits)
        body = space + 1
        if length > self.max_bytes:
            if len(buf) < body + self.max_bytes:
                return None
            frame = bytes(buf[body : body + self.max_bytes])
            del buf[: body + self.max_bytes]
            self._skip = length - self.max_bytes
            self.counts.oversize += 1
            return _clip(frame, self.max_bytes)
        if len(buf) < body + length:
            return None
        frame = bytes(buf[body : body + length])
        del buf[: body + length]
        return frame.rstrip(b"\r\n\x00")

    def _line(self, buf: bytearray) -> bytes | None:
        newline = buf.find(b"\n")
        if newline < 0:
            if len(buf) > self.max_bytes + 1:
                frame = bytes(buf[: self.max_bytes])
                buf.clear()
                self._skip_line = True
                self.counts.oversize += 1
                return _clip(frame, self.max_bytes)
            return None
        frame = bytes(buf[:newline])
        del buf[: newline + 1]
        frame = frame.rstrip(b"\r\x00").lstrip(b"\x00")
        if len(frame) > self.max_bytes:
            self.counts.oversize += 1
            frame = _clip(frame, self.max_bytes)
        return frame

    def _lost(self) -> None:
        """Not a length where one must be: the stream cannot be framed any more."""
        self.counts.malformed += 1
        self.broken = True
        self._buf.clear()


def _clip(frame: bytes, limit: int) -> bytes:
    return cut_at_char(frame, limit) if len(frame) > limit else frame


def parse_message(
    data: bytes, *, peer: str | None, source: str, number: int, now: datetime | None = None
) -> LogRecord | None:
    """One syslog message -> a record, or None when it is malformed (no valid ``<PRI>``)."""
    text = data.decode("utf-8", "replace").replace("\ufeff", "", 1).strip("\r\n\x00")
    match = _PRI.match(text)
    if match is None or int(match.group(1)) > 191:
        return None
    head, newline, rest = text.partition("\n")
    record = _RFC5424.parse(head) if head[match.end() : match.end() + 2] == "1 " else None
    if record is None:
        record = _RFC3164.parse(head)
    if record is None:
        record = _bare(head, match)
    if newline:
        record.message = f"{record.message}\n{rest}"
        record.raw = f"{head}\n{rest}"
    if record.timestamp is None:
        record.timestamp = now or datetime.now(UTC)
    if not record.host and peer:
        record.host = peer
    if peer:
        record.fields["peer"] = peer
    record.source = source
    record.line_no = record.end_line = number
    return record


def _bare(line: str, pri: re.Match[str]) -> LogRecord:
    """``<PRI>`` and then no RFC 3164 header: ``tag[pid]: message`` or just the message."""
    fields: dict[str, Any] = {}
    level = apply_pri(pri.group(1), fields)
    service, pid, message = split_tag(line[pri.end() :].lstrip(), fields)
    return LogRecord(
        message=message,
        level=level,
        service=service,
        pid=pid,
        fields=fields,
        raw=line,
        format=_RFC3164.name,
    )
