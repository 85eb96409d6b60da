"""Input sources: what the user names on the command line, turned into things we can read.

:func:`expand_inputs` turns the user's words (files, folders, glob patterns, ``-``) into an
ordered list of :class:`Source` plus a list of :class:`Skip` explaining, one line each, what was
*not* read and why. Nothing is silently dropped except what is obviously not a log (hidden
entries and deny-listed extensions found while walking a folder or expanding a glob). Reading a
source is :mod:`reading`'s job.
"""

from __future__ import annotations

import bz2
import glob
import os
import re
import stat
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

__all__ = [
    "Skip",
    "Source",
    "detect_compression",
    "expand_inputs",
    "os_reason",
    "rotation_key",
    "total_size",
]

Compression = Literal["gz", "bz2"]

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
            skips.append(Skip(word, os_reason(exc)))
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


def os_reason(exc: OSError) -> str:
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
        skips.append(Skip(name, os_reason(exc)))
        return
    compression = detect_compression(head)
    verdict = _binary_reason(head, compression)
    if verdict is not None:
        skips.append(Skip(name, verdict))
        return
    add(Source(name, Path(name), compression, st.st_size), _key(name), explicit=explicit)


def detect_compression(head: bytes) -> Compression | None:
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
            skips.append(Skip(root, os_reason(exc)))
        else:
            skips.append(Skip(where, os_reason(exc)))

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
        skips.append(Skip(name, os_reason(exc)))
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
