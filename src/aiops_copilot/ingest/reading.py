"""Reading one source line by line: decompression, line limits, decoding, damage reports.

Split from :mod:`sources` (which decides *what* to read) because this is the hot path and the
place where bad bytes are handled: every physical line comes out as ``(number, text)``, a line
over the limit is cut without being buffered, invalid UTF-8 is replaced and counted, and a
damaged ``.gz``/``.bz2`` yields what it could and then reports, never raises.
"""

from __future__ import annotations

import bz2
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import BinaryIO

from aiops_copilot.ingest.sources import Source, detect_compression, os_reason

__all__ = ["DEFAULT_MAX_LINE_BYTES", "ReadStats", "read_lines"]

#: Lines longer than this many bytes (excluding the line terminator) are cut.
DEFAULT_MAX_LINE_BYTES = 65536

#: How much we read (and, for compressed input, decompress) per step. 256 KiB amortises the
#: per-chunk Python overhead to nothing while keeping the worst-case working set well under
#: 1 MiB, which is what makes "a 2 GB file without newlines" safe.
_CHUNK = 256 * 1024

#: Compressed input is fed to the decompressor in slices of this size (see _raw_chunks).
_SLICE = 16 * 1024


@dataclass
class ReadStats:
    """Counters for one source, filled in by :func:`read_lines` as it goes.

    ``bytes`` counts uncompressed bytes. During iteration the counters may lag by up to one
    internal chunk (256 KiB); they are exact once the iterator is exhausted. ``error`` is a
    one-line message when reading stopped for a reason other than a clean end of input.
    """

    lines: int = 0
    bytes: int = 0
    invalid_utf8_lines: int = 0
    cut_lines: int = 0
    truncated: bool = False
    error: str | None = None


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _StreamError(Exception):
    """Raised by a chunk producer after it yielded all good data; never escapes read_lines."""

    def __init__(self, message: str, *, truncated: bool) -> None:
        super().__init__(message)
        self.message = message  # may contain "{lines}", filled in once the count is final
        self.truncated = truncated

    def text(self, lines: int) -> str:
        # str.replace, not str.format: the message embeds OS/zlib text that may contain braces
        return self.message.replace("{lines}", str(lines))


_ReadFn = Callable[[int], bytes]


def read_lines(
    source: Source,
    stats: ReadStats,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    stdin: BinaryIO | None = None,
    span: tuple[int, int] | None = None,
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_no, text)`` for every physical line of ``source``; never raises on bad data.

    * ``line_no`` is 1-based and counts physical lines, so it can be cited back to the file.
    * The terminator (``\\n`` or ``\\r\\n``) is removed; a lone ``\\r`` is kept as data (old Mac
      line endings are not a thing in server logs, but stray ``\\r`` from progress bars are).
      A last line without a newline is still yielded.
    * A line over ``max_line_bytes`` (terminator excluded) is cut at a UTF-8 character
      boundary and counted in ``stats.cut_lines``; the rest of it is read and dropped chunk by
      chunk, so memory stays bounded no matter how long the line is.
    * Invalid UTF-8 becomes U+FFFD and the line is counted in ``stats.invalid_utf8_lines``.
    * gzip (multi-member too) and bzip2 are detected from magic bytes and decompressed on the
      fly. A damaged stream yields what could be read, then sets ``stats.truncated`` and a
      one-line ``stats.error``; an OSError sets ``stats.error`` and stops.

    Speed: data is read in 256 KiB binary chunks, each chunk's complete lines are decoded with
    one strict UTF-8 decode (one replacing decode if that fails) and split in C; only chunks
    with over-long lines take the per-line path. Measured ~230-260 MB/s for plain ASCII logs,
    ~200 MB/s for .gz, ~60 MB/s when most lines carry invalid UTF-8; bzip2 is bound by the
    decompressor itself (~15 MB/s).

    Standard input (``source.path is None``) is read from ``stdin`` (default
    ``sys.stdin.buffer``) and sniffed for compression like a file; it is never closed.
    The file is opened lazily, on the first ``next()``, and closed when the iterator ends or
    is closed.

    ``span=(start, end)`` reads only bytes ``[start, end)`` of a file (the Dask engine's
    partitions): ``start`` must be a line start, or a member start of a ``.gz`` (offsets are
    then compressed offsets and ``end`` a member end). Compression is taken from
    ``source.compression`` rather than sniffed, since a range of a plain file may begin with
    anything. Line numbers restart at 1.
    """
    if max_line_bytes < 4:
        raise ValueError("max_line_bytes must be at least 4")
    if span is not None and (source.path is None or not 0 <= span[0] <= span[1]):
        raise ValueError("a byte range needs a file and 0 <= start <= end")
    # Not a generator itself: the argument check fails at the call, and the caller iterates
    # _lines directly (every extra generator layer costs ~10% on the per-line hot path).
    return _lines(source, stats, max_line_bytes, stdin, span)


def _open_chunks(
    source: Source, stdin: BinaryIO | None, span: tuple[int, int] | None = None
) -> tuple[Iterator[bytes], Callable[[], None]]:
    """Decompressed chunks of ``source`` and a closer; raises _StreamError if unopenable."""
    if source.path is None:
        stream = stdin if stdin is not None else sys.stdin.buffer
        # read1 returns what a pipe has now instead of waiting for a full chunk
        read: _ReadFn = getattr(stream, "read1", stream.read)

        def close() -> None:  # never close the caller's stdin
            return None
    else:
        try:
            fh = open(source.path, "rb", buffering=0)  # noqa: SIM115 - closed via close()
            if span is not None:
                fh.seek(span[0])
        except OSError as exc:
            raise _StreamError(f"cannot open: {os_reason(exc)}", truncated=False) from exc
        read, close = fh.read, fh.close
        if span is not None:
            read = _bounded(read, span[1] - span[0])
    try:
        first = _read_head(read)
    except _StreamError:
        close()
        raise
    compression = detect_compression(first) if span is None else source.compression
    if compression == "gz":
        return _gunzip(read, first), close
    if compression == "bz2":
        return _bunzip(read, first), close
    return _plain(read, first), close


def _bounded(read: _ReadFn, limit: int) -> _ReadFn:
    """``read`` that stops after ``limit`` bytes (the end of a byte range)."""
    left = limit

    def bounded(size: int) -> bytes:
        nonlocal left
        if left <= 0:
            return b""
        data = read(min(size, left))
        left -= len(data)
        return data

    return bounded


def _read_head(read: _ReadFn) -> bytes:
    """At least 4 bytes (enough for magic numbers) unless the input is shorter."""
    try:
        head = read(_CHUNK)
        while head and len(head) < 4:
            more = read(_CHUNK)
            if not more:
                break
            head += more
    except OSError as exc:
        raise _StreamError(
            f"read error after {{lines}} lines: {os_reason(exc)}", truncated=False
        ) from exc
    return head or b""


def _read_or_fail(read: _ReadFn, size: int) -> bytes:
    """One read; an OSError becomes the stream error that ends the source with a message."""
    try:
        return read(size)
    except OSError as exc:
        raise _StreamError(
            f"read error after {{lines}} lines: {os_reason(exc)}", truncated=False
        ) from exc


def _plain(read: _ReadFn, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        data = _read_or_fail(read, _CHUNK)
        if not data:
            return
        yield data


def _raw_chunks(read: _ReadFn, first: bytes) -> Iterator[bytes]:
    """Compressed input in slices of at most 16 KiB, with OSErrors turned into a stream error.

    Small slices bound what a decompression error can cost: zlib and bz2 discard the output
    of a call that fails, so we feed them little at a time (the syscall count stays trivial).
    """
    view = memoryview(first)
    for start in range(0, len(view), _SLICE):
        yield bytes(view[start : start + _SLICE])
    while True:
        data = _read_or_fail(read, _SLICE)
        yield data
        if not data:
            return


def _gunzip(read: _ReadFn, first: bytes) -> Iterator[bytes]:
    """Decompress gzip members back to back, with at most 256 KiB of output per step.

    Bounded output per step is what keeps a highly compressible line (or a zip bomb) from
    being inflated into memory in one go. Zero padding between/after members is allowed, as
    gzip(1) allows it.
    """
    raw = _raw_chunks(read, first)
    pending = b""
    d: zlib._Decompress | None = None
    members = 0  # complete members so far
    member_out = 0  # bytes produced by the current member
    while True:
        if not pending:
            pending = next(raw, b"")
            if not pending:
                if d is None:
                    return
                try:
                    tail = d.flush()
                except zlib.error:
                    tail = b""
                if tail:
                    yield tail
                if d.eof:
                    return
                raise _StreamError(
                    "compressed stream ended early (truncated .gz?) after {lines} lines",
                    truncated=True,
                )
        if d is None:
            pending = pending.lstrip(b"\x00")
            if not pending:
                continue
            d = zlib.decompressobj(wbits=31)
            member_out = 0
        saved = d.copy()
        try:
            out = d.decompress(pending, _CHUNK)
        except zlib.error as exc:
            if members and not member_out:
                raise _StreamError(
                    "ignored trailing data that is not gzip after {lines} lines",
                    truncated=False,
                ) from exc
            yield from _salvage(saved, pending)
            raise _StreamError(
                f"corrupt .gz data ({_zlib_reason(exc)}) after {{lines}} lines",
                truncated=True,
            ) from exc
        pending = d.unconsumed_tail
        if out:
            member_out += len(out)
            yield out
        if d.eof:
            members += 1
            pending = d.unused_data
            d = None


def _salvage(d: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """Re-feed a slice that failed, in small steps, to keep the output before the damage.

    256-byte steps, then single bytes for the step that fails: the loss shrinks to the bytes
    decoded by the failing byte. A deflate byte expands to at most ~2 KiB, so every step's
    output stays small. Only runs once, on a damaged file, so its cost does not matter.
    """
    for start in range(0, len(data), 256):
        piece = data[start : start + 256]
        saved = d.copy()
        try:
            out = d.decompress(piece)
        except zlib.error:
            d = saved
            for i in range(len(piece)):
                try:
                    out = d.decompress(piece[i : i + 1])
                except zlib.error:
                    return
                if out:
                    yield out
            return
        if out:
            yield out


def _zlib_reason(exc: zlib.error) -> str:
    text = str(exc)
    # "Error -3 while decompressing data: invalid block type" -> "invalid block type"
    return text.split(": ", 1)[-1] if ": " in text else text


def _bunzip(read: _ReadFn, first: bytes) -> Iterator[bytes]:
    """Decompress bzip2 streams back to back (pbzip2 writes several), 256 KiB per step."""
    raw = _raw_chunks(read, first)
    pending = b""
    d: bz2.BZ2Decompressor | None = None
    streams = 0
    while True:
        if d is None:
            if not pending:
                pending = next(raw, b"")
                if not pending:
                    return
            d = bz2.BZ2Decompressor()
        if d.needs_input:
            if not pending:
                pending = next(raw, b"")
                if not pending:
                    raise _StreamError(
                        "compressed stream ended early (truncated .bz2?) after {lines} lines",
                        truncated=True,
                    )
            data, pending = pending, b""
        else:
            data = b""
        try:
            out = d.decompress(data, _CHUNK)
        except (OSError, EOFError, ValueError) as exc:
            if streams:
                raise _StreamError(
                    "ignored trailing data that is not bzip2 after {lines} lines",
                    truncated=False,
                ) from exc
            raise _StreamError(
                f"corrupt .bz2 data ({exc}) after {{lines}} lines", truncated=True
            ) from exc
        if out:
            yield out
        if d.eof:
            streams += 1
            pending = d.unused_data
            d = None


def _cut(raw: bytes, limit: int) -> bytes:
    """First ``limit`` bytes of ``raw``, backed off to a UTF-8 character start (at most 3)."""
    end = limit
    floor = max(0, limit - 3)
    while end > floor and (raw[end] & 0xC0) == 0x80:
        end -= 1
    if (raw[end] & 0xC0) == 0x80:  # not UTF-8 anyway: a hard cut is as good as any
        end = limit
    return raw[:end]


def _lines(
    source: Source,
    stats: ReadStats,
    limit: int,
    stdin: BinaryIO | None,
    span: tuple[int, int] | None = None,
) -> Iterator[tuple[int, str]]:
    """The generator behind :func:`read_lines`; see there for the contract."""
    try:
        chunks, close = _open_chunks(source, stdin, span)
    except _StreamError as exc:
        stats.error = exc.text(0)
        return
    lineno = 0
    carry = b""
    skipping = False  # inside the dropped tail of a cut line
    invalid = 0
    cut = 0

    def slow(block: bytes) -> list[str]:
        """Per-line decode for a block with invalid UTF-8 or over-long lines."""
        nonlocal invalid, cut
        out: list[str] = []
        parts = block.split(b"\n")
        parts.pop()
        for part in parts:
            if part[-1:] == b"\r":
                part = part[:-1]
            if len(part) > limit:
                part = _cut(part, limit)
                cut += 1
            try:
                out.append(part.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(part.decode("utf-8", "replace"))
                invalid += 1
        return out

    def one(part: bytes) -> str:
        nonlocal invalid, cut
        if len(part) > limit:
            part = _cut(part, limit)
            cut += 1
        try:
            return part.decode("utf-8")
        except UnicodeDecodeError:
            invalid += 1
            return part.decode("utf-8", "replace")

    def flush_counters() -> None:
        stats.lines = lineno
        stats.invalid_utf8_lines = invalid
        stats.cut_lines = cut

    failure: _StreamError | None = None
    try:
        for chunk in _guard(chunks):
            if isinstance(chunk, _StreamError):
                failure = chunk
                break
            stats.bytes += len(chunk)
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                skipping = False
                chunk = chunk[nl + 1 :]
                if not chunk:
                    continue
            buf = carry + chunk if carry else chunk
            last = buf.rfind(b"\n")
            if last >= 0:
                if last + 1 < len(buf):
                    block = buf[: last + 1]
                    carry = buf[last + 1 :]
                else:
                    block = buf
                    carry = b""
                decoded = _fast_decode(block, limit)
                if decoded is None:
                    lines = slow(block)
                else:
                    lines, bad = decoded
                    invalid += bad
                yield from zip(count(lineno + 1), lines)
                lineno += len(lines)
                flush_counters()
            else:
                carry = buf
            # A line still without its newline beyond the limit (+1 for a possible "\r"):
            # emit the cut head now and drop the rest as it streams past.
            if len(carry) > limit + 1:
                lineno += 1
                line = one(carry)
                carry = b""
                skipping = True
                flush_counters()
                yield lineno, line
        # The last line without a newline (also the partial line before damage or an I/O
        # error: it is real data, and the error message says the stream was cut).
        if carry and not skipping:
            lineno += 1
            line = one(carry)
            carry = b""
            flush_counters()
            yield lineno, line
    finally:
        flush_counters()
        close()
    if failure is not None:
        stats.truncated = failure.truncated
        stats.error = failure.text(lineno)


def _guard(chunks: Iterator[bytes]) -> Iterator[bytes | _StreamError]:
    """Turn a producer's terminal error into a last item, so the splitter can flush first."""
    try:
        yield from chunks
    except _StreamError as exc:
        yield exc
    except OSError as exc:  # belt and braces: producers already convert these
        yield _StreamError(f"read error after {{lines}} lines: {os_reason(exc)}", truncated=False)


def _fast_decode(block: bytes, limit: int) -> tuple[list[str], int] | None:
    """``(lines, invalid line count)`` of a newline-terminated block, or None for the slow path.

    One decode and one C-level split for the whole block; this is the hot path. A block with
    invalid UTF-8 (a Latin-1 log, say) is decoded with replacement in one go too, and the
    damaged lines are found by their U+FFFD, unless the block already contained a genuine
    U+FFFD, which would be miscounted: then the exact per-line path runs instead.
    """
    invalid = 0
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        if b"\xef\xbf\xbd" in block:
            return None
        text = block.decode("utf-8", "replace")
        invalid = -1
    ascii_only = len(text) == len(block) and not invalid
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    lines.pop()
    # A character is 1 to 4 bytes (a replaced byte is 1 byte, 1 character), so in non-ASCII
    # text only lines longer than limit/4 characters can be over the byte limit; such blocks
    # take the exact slow path.
    if max(map(len, lines)) > (limit if ascii_only else limit // 4):
        return None
    if invalid:
        invalid = sum("\ufffd" in line for line in lines)
    return lines, invalid
