"""Input sources: what the user names on the command line, turned into things we can read.

Two jobs live here and nothing else:

* :func:`expand_inputs` turns the user's words (files, folders, glob patterns, ``-``) into an
  ordered list of :class:`Source` plus a list of :class:`Skip` explaining, one line each, what
  was *not* read and why. Nothing is silently dropped except what is obviously not a log
  (hidden entries and deny-listed extensions found while walking a folder or expanding a glob).
* :func:`read_lines` streams one source as ``(line_no, text)`` pairs in bounded memory, whatever
  the bytes are: over-long lines are cut, invalid UTF-8 is replaced, gzip/bzip2 is decompressed on
  the fly, and damaged input ends the stream with a message in :class:`ReadStats` instead of an
  exception, so one bad file never aborts an analysis of fifty good ones.
"""

from __future__ import annotations

import bz2
import glob
import os
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "ReadStats",
    "Skip",
    "Source",
    "expand_inputs",
    "read_lines",
    "rotation_key",
    "total_size",
]

Compression = Literal["gz", "bz2"]

#: Lines longer than this many bytes (excluding the line terminator) are cut.
DEFAULT_MAX_LINE_BYTES = 65536

#: How much we read (and, for compressed input, decompress) per step. 256 KiB amortises the
#: per-chunk Python overhead to nothing while keeping the worst-case working set well under
#: 1 MiB, which is what makes "a 2 GB file without newlines" safe.
_CHUNK = 256 * 1024

#: Compressed input is fed to the decompressor in slices of this size (see _raw_chunks).
_SLICE = 16 * 1024

#: How much of a file we look at to decide whether it is binary.
_SNIFF_BYTES = 8192

STDIN_NAME = "<stdin>"

# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One thing to read: a file (``path``) or standard input (``path is None``).

    ``name`` is what we show to the user and cite in findings: the path as they wrote it (or
    relative to the folder/glob they named), never an absolute path they did not type.
    ``compression`` comes from the magic bytes, because rotated logs are often renamed or
    copied without their suffix; the reader re-sniffs anyway, so a wrong value is harmless.
    ``size`` is the on-disk size (compressed size for compressed files), ``None`` if unknown.
    """

    name: str
    path: Path | None
    compression: Compression | None = None
    size: int | None = None


@dataclass
class Skip:
    """Something the user named (or that a folder/glob contained) that we will not read.

    ``reason`` is a single human sentence fragment, e.g. "no such file or directory".
    """

    target: str
    reason: str


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
# Expanding inputs
# --------------------------------------------------------------------------------------------

#: Extensions skipped when *discovering* files (walking folders, expanding globs).
#:
#: Why a deny-list and not an allow-list: real logs have every name imaginable (``syslog``,
#: ``messages``, ``catalina.out``, ``app.log.3.gz``, ``events.json``, ``trace.txt``, no
#: extension at all), so an allow-list would silently miss logs, which is the worse failure for
#: an SRE tool. The deny-list only names types that can never be text logs and are common in
#: real trees (images, archives, native/compiled code, documents, databases, media), so we
#: skip them without even opening them; binary sniffing remains the real safety net for the
#: rest. Files the user names explicitly are never deny-listed: we trust an explicit name and
#: let the sniffer decide.
_DENY_EXTENSIONS = frozenset(
    {
        # images
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".svg",
        # archives and packages (multi-file: not a single log stream)
        ".zip", ".tar", ".tgz", ".tbz2", ".7z", ".rar", ".jar", ".war", ".ear", ".whl",
        ".deb", ".rpm", ".apk", ".dmg", ".iso",
        # native and compiled code
        ".so", ".dll", ".dylib", ".exe", ".o", ".a", ".obj", ".lib", ".pyc", ".pyo",
        ".class", ".wasm",
        # documents, databases, media, fonts
        ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt",
        ".db", ".sqlite", ".sqlite3", ".mdb",
        ".mp3", ".mp4", ".mov", ".avi", ".mkv", ".wav", ".flac", ".ogg",
        ".woff", ".woff2", ".ttf", ".otf", ".eot",
        # editor swap files
        ".swp", ".swo",
    }
)  # fmt: skip

_DENY_DOUBLE_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")

# Magic numbers of formats we recognise but do not read, with the hint we give instead.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xfd7zXZ\x00", "unsupported compression (xz); decompress it first (xz -d)"),
    (b"\x28\xb5\x2f\xfd", "unsupported compression (zstd); decompress it first (zstd -d)"),
    (b"\x04\x22\x4d\x18", "unsupported compression (lz4); decompress it first (lz4 -d)"),
    (b"PK\x03\x04", "zip archive; extract it first"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive; extract it first"),
    (b"LPKSHHRH", "systemd journal file; export it: journalctl --file FILE -o short-iso"),
)

_GLOB_CHARS = re.compile(r"[*?\[]")


def expand_inputs(
    inputs: Sequence[str], *, stdin: BinaryIO | None = None
) -> tuple[list[Source], list[Skip]]:
    """Expand files, folders, glob patterns and ``-`` into sources, oldest rotation first.

    Rules, each chosen so the result is predictable and nothing disappears without a word:

    * An existing path is taken literally, even if it contains ``*`` or ``[`` (a file really
      named ``app[1].log`` must stay readable); otherwise a word with ``*``, ``?`` or ``[...]``
      is a glob (``**`` recursive). A glob that matches nothing, or only non-logs, is a Skip.
    * Folders are walked recursively without following symlinked folders (no loops). Hidden
      files and folders below the named folder, and deny-listed extensions, are left out
      silently; binary, unreadable or special files found inside are reported as Skips.
    * Every candidate is sniffed: NUL bytes in the first 8 KiB (after decompression) mean
      binary. UTF-16 text, xz/zstd/lz4/zip/7z and journald files get a specific hint instead.
    * ``-`` is standard input, at most once. A FIFO named explicitly (``<(kubectl logs ..)``)
      is read like stdin; devices and sockets are Skips ("not a regular file").
    * The same file reached twice (by resolved path) is read once; naming it twice explicitly
      is reported, overlap between folders/globs is not (it is expected).
    * Order: the inputs' order, with folder/glob results sorted by code point (same on every
      machine and locale); then each rotated set (``app.log``, ``app.log.1``, ``app.log.2.gz``,
      ``app.log-20261120.gz``, ``app-2026-11-20.log`` ... in one folder) is gathered at the
      position of its first member and ordered oldest first, so readers see time in order.

    ``stdin`` (default ``sys.stdin.buffer``) is only inspected to learn its size when it is
    redirected from a regular file; it is never read here.
    """
    found: list[tuple[Source, str]] = []  # (source, dedup key)
    skips: list[Skip] = []
    seen: dict[str, str] = {}  # dedup key -> name of first occurrence
    stdin_used = False

    def add(src: Source, key: str, *, explicit: bool) -> None:
        first = seen.get(key)
        if first is not None:
            if explicit:
                skips.append(Skip(src.name, f"already included (same file as {first})"))
            return
        seen[key] = src.name
        found.append((src, key))

    for word in inputs:
        if word == "-":
            if stdin_used:
                skips.append(Skip("-", "standard input named more than once"))
                continue
            stdin_used = True
            add(Source(STDIN_NAME, None, None, _stdin_size(stdin)), "\0stdin", explicit=True)
            continue
        if word == "":
            skips.append(Skip(word, "empty path"))
            continue
        try:
            st = os.stat(word)
        except FileNotFoundError:
            if _GLOB_CHARS.search(word):
                _expand_glob(word, add, skips)
            elif os.path.lexists(word):
                skips.append(Skip(word, "broken symbolic link"))
            else:
                skips.append(Skip(word, "no such file or directory"))
            continue
        except PermissionError:
            skips.append(Skip(word, "permission denied"))
            continue
        except OSError as exc:
            skips.append(Skip(word, _os_reason(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            before = len(found)
            denied = _walk_dir(word, add, skips)
            if len(found) == before and not denied:
                skips.append(Skip(word, "is a directory with no log files"))
        elif stat.S_ISFIFO(st.st_mode):
            add(Source(word, Path(word), None, None), _key(word), explicit=True)
        elif not stat.S_ISREG(st.st_mode):
            skips.append(Skip(word, "not a regular file"))
        else:
            _consider_file(word, st, add, skips, explicit=True)

    return _order_rotations(found), skips


def total_size(sources: Sequence[Source]) -> int | None:
    """Total uncompressed size if it is known for every source, else ``None``.

    Progress is measured in uncompressed bytes read; a compressed file's on-disk size says
    nothing reliable about that, so any compressed or unsized source makes the total unknown.
    """
    total = 0
    for src in sources:
        if src.size is None or src.compression is not None:
            return None
        total += src.size
    return total


def _stdin_size(stdin: BinaryIO | None) -> int | None:
    """Size of stdin when it is a redirected regular file (``aiops - < big.log``), else None."""
    stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    if stream is None:
        return None
    try:
        fd = stream.fileno()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(0, st.st_size - os.lseek(fd, 0, os.SEEK_CUR))
    except (OSError, ValueError, AttributeError):
        return None


def _key(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


def _os_reason(exc: OSError) -> str:
    """One lower-case line for an OSError, without the errno noise or the file name."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _is_denied(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(_DENY_DOUBLE_EXTENSIONS):
        return True
    return os.path.splitext(lower)[1] in _DENY_EXTENSIONS


class _AddFn(Protocol):
    def __call__(self, src: Source, key: str, *, explicit: bool) -> None: ...


def _consider_file(
    name: str, st: os.stat_result, add: _AddFn, skips: list[Skip], *, explicit: bool
) -> None:
    """Sniff one regular file and either add it as a source or record why it is skipped."""
    try:
        with open(name, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        skips.append(Skip(name, _os_reason(exc)))
        return
    compression = _detect_compression(head)
    verdict = _binary_reason(head, compression)
    if verdict is not None:
        skips.append(Skip(name, verdict))
        return
    add(Source(name, Path(name), compression, st.st_size), _key(name), explicit=explicit)


def _detect_compression(head: bytes) -> Compression | None:
    if head[:2] == b"\x1f\x8b":
        return "gz"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    return None


def _binary_reason(head: bytes, compression: Compression | None) -> str | None:
    """Why ``head`` (the first bytes of a file) is not a text log, or None if it looks fine."""
    for magic, reason in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return reason
    sample = head
    if compression is not None:
        sample = _peek_decompressed(head, compression)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text is not supported; convert it: iconv -f UTF-16 -t UTF-8"
    if b"\x00" in sample:
        return "binary file (NUL bytes in the first 8 KiB)"
    return None


def _peek_decompressed(head: bytes, compression: Compression) -> bytes:
    """Up to 8 KiB of decompressed data; damage is left for read_lines to report in context."""
    try:
        if compression == "gz":
            return zlib.decompressobj(wbits=31).decompress(head, _SNIFF_BYTES)
        return bz2.BZ2Decompressor().decompress(head, _SNIFF_BYTES)
    except (zlib.error, OSError, EOFError, ValueError):
        return b""


def _walk_dir(root: str, add: _AddFn, skips: list[Skip]) -> bool:
    """Add every log file below ``root``; returns True if ``root`` itself was unreadable."""
    root_denied = False

    def onerror(exc: OSError) -> None:
        nonlocal root_denied
        where = exc.filename if isinstance(exc.filename, str) else root
        if os.path.normpath(where) == os.path.normpath(root):
            root_denied = True
            skips.append(Skip(root, _os_reason(exc)))
        else:
            skips.append(Skip(where, _os_reason(exc)))

    # Names under "." are shown without the "./" the walk puts in front of them.
    tidy = os.path.normpath(root) == "."
    found: list[tuple[tuple[str, ...], str]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fname in filenames:
            if fname.startswith(".") or _is_denied(fname):
                continue
            name = os.path.join(dirpath, fname)
            if tidy:
                name = os.path.normpath(name)
            found.append((tuple(name.split(os.sep)), name))
    # Sorting by path components, by code point, gives the same order on every filesystem and
    # locale, and keeps a folder's files together.
    found.sort()
    for _, name in found:
        _consider_discovered(name, add, skips)
    return root_denied


def _consider_discovered(name: str, add: _AddFn, skips: list[Skip]) -> None:
    try:
        st = os.stat(name)
    except FileNotFoundError:
        if os.path.lexists(name):
            skips.append(Skip(name, "broken symbolic link"))
        return  # vanished between listing and stat: nothing to report
    except OSError as exc:
        skips.append(Skip(name, _os_reason(exc)))
        return
    if stat.S_ISDIR(st.st_mode):
        return  # symlinked folder met in a walk: not followed, avoids loops
    if not stat.S_ISREG(st.st_mode):
        skips.append(Skip(name, "not a regular file"))
        return
    _consider_file(name, st, add, skips, explicit=False)


def _expand_glob(pattern: str, add: _AddFn, skips: list[Skip]) -> None:
    """Expand one glob; matched folders are walked like named folders."""
    try:
        matches = sorted(glob.glob(pattern, recursive=True))
    except (OSError, ValueError) as exc:  # e.g. an unbalanced pattern on an odd filesystem
        skips.append(Skip(pattern, f"bad glob pattern ({exc})"))
        return
    if not matches:
        skips.append(Skip(pattern, "no files match this pattern"))
        return
    added = 0

    def counting_add(src: Source, key: str, *, explicit: bool) -> None:
        nonlocal added
        added += 1
        add(src, key, explicit=explicit)

    for match in matches:
        if os.path.isdir(match):
            _walk_dir(match, counting_add, skips)
        elif not _is_denied(os.path.basename(match)):
            _consider_discovered(match, counting_add, skips)
    if added == 0:
        skips.append(Skip(pattern, f"pattern matched {len(matches)} path(s) but no log files"))


# ---- rotated sets ----------------------------------------------------------------------------

_COMPRESSED_SUFFIX = re.compile(r"\.(?:gz|bz2)$", re.IGNORECASE)
_DATE = r"(?P<date>\d{4}-?\d{2}-?\d{2})"
# app.log-20261120, app.log.2026-11-20, syslog-2026112012 (logrotate dateformat with hour)
_DATED_SUFFIX = re.compile(
    rf"^(?P<base>.+?)[-._]{_DATE}(?:[-_T.]?(?P<time>\d{{2}}(?:[-:]?\d{{2}}){{0,2}}))?$"
)
# app.log.1, messages.12
_NUMBERED = re.compile(r"^(?P<base>.+)\.(?P<n>\d{1,6})$")
# app-2026-11-20.log, app.20261120.log (date inside the stem, extension kept)
_DATED_STEM = re.compile(rf"^(?P<stem>.+?)[-._]{_DATE}(?P<ext>\.[A-Za-z][A-Za-z0-9]*)$")


def _plausible_date(text: str) -> bool:
    digits = text.replace("-", "")
    if len(digits) != 8:
        return False
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return 1970 <= year <= 2200 and 1 <= month <= 12 and 1 <= day <= 31


def rotation_key(filename: str) -> tuple[str, tuple[int, str, int]]:
    """``(base name, age rank)`` of a file name; smaller ranks are older.

    Dated files rank before numbered ones, which rank before the live file: a set normally
    uses one scheme, and when both appear (switching logrotate to ``dateext``), dated files are
    the older generation. Within a scheme: dates ascending, numbers descending.
    """
    name = _COMPRESSED_SUFFIX.sub("", filename)
    m = _DATED_SUFFIX.match(name)
    if m and _plausible_date(m["date"]):
        stamp = m["date"].replace("-", "") + (m["time"] or "").replace("-", "").replace(":", "")
        return m["base"], (0, stamp, 0)
    m = _NUMBERED.match(name)
    if m:
        return m["base"], (1, "", -int(m["n"]))
    m = _DATED_STEM.match(name)
    if m and _plausible_date(m["date"]):
        return m["stem"] + m["ext"], (0, m["date"].replace("-", ""), 0)
    return name, (2, "", 0)


def _order_rotations(found: list[tuple[Source, str]]) -> list[Source]:
    """Gather each rotated set at its first member's position, oldest first."""
    groups: dict[tuple[str, str], list[tuple[tuple[int, str, int], str, Source]]] = {}
    order: list[tuple[str, str]] = []
    for src, key in found:
        if src.path is None:
            gkey = ("\0stdin", "")
            rank: tuple[int, str, int] = (2, "", 0)
        else:
            base, rank = rotation_key(os.path.basename(key))
            gkey = (os.path.dirname(key), base)
        if gkey not in groups:
            groups[gkey] = []
            order.append(gkey)
        groups[gkey].append((rank, src.name, src))
    out: list[Source] = []
    for gkey in order:
        members = groups[gkey]
        if len(members) > 1:
            members.sort(key=lambda m: (m[0], m[1]))
        out.extend(m[2] for m in members)
    return out


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
    """
    if max_line_bytes < 4:
        raise ValueError("max_line_bytes must be at least 4")
    # Not a generator itself: the argument check fails at the call, and the caller iterates
    # _lines directly (every extra generator layer costs ~10% on the per-line hot path).
    return _lines(source, stats, max_line_bytes, stdin)


def _open_chunks(
    source: Source, stdin: BinaryIO | None
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
        except OSError as exc:
            raise _StreamError(f"cannot open: {_os_reason(exc)}", truncated=False) from exc
        read, close = fh.read, fh.close
    try:
        first = _read_head(read)
    except _StreamError:
        close()
        raise
    compression = _detect_compression(first)
    if compression == "gz":
        return _gunzip(read, first), close
    if compression == "bz2":
        return _bunzip(read, first), close
    return _plain(read, first), close


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
            f"read error after {{lines}} lines: {_os_reason(exc)}", truncated=False
        ) from exc
    return head or b""


def _plain(read: _ReadFn, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        try:
            data = read(_CHUNK)
        except OSError as exc:
            raise _StreamError(
                f"read error after {{lines}} lines: {_os_reason(exc)}", truncated=False
            ) from exc
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
        try:
            data = read(_SLICE)
        except OSError as exc:
            raise _StreamError(
                f"read error after {{lines}} lines: {_os_reason(exc)}", truncated=False
            ) from exc
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
    source: Source, stats: ReadStats, limit: int, stdin: BinaryIO | None
) -> Iterator[tuple[int, str]]:
    """The generator behind :func:`read_lines`; see there for the contract."""
    try:
        chunks, close = _open_chunks(source, stdin)
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
        yield _StreamError(f"read error after {{lines}} lines: {_os_reason(exc)}", truncated=False)


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
