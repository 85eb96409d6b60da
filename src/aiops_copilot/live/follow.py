"""Following files like ``tail -F``: growth, rotation, truncation, new files, restarts.

What it promises, and how:

* **Growth**: each poll reads what was appended since the last one (at most ``read_budget``
  bytes per file, so one busy file cannot starve the others or the window clock). A line is
  handed on only once its newline is there (:mod:`aiops_copilot.live.lines`); records go
  through the batch reader's format detection and multi-line folding
  (:mod:`aiops_copilot.live.folding`).
* **Rotation** (rename and create, logrotate's default): the path shows a new inode. The old
  file stays open: it is read to its end, and read again for ``rotate_grace`` seconds after
  its last data (a writer keeps writing to it until it reopens its log), while the new file
  is read from its first byte. Rotated names (``app.log.1``, ``app.log.2.gz``,
  ``app-2026-11-20.log``) that turn up later next to a followed file are not read: their
  lines came through the file they were rotated from.
* **Truncation** (``copytruncate``) and replacement in place: the file got shorter than what
  was read, or its first line changed; it is read again from the start.
* **New files** matching a folder or glob are found every ``discover_seconds`` and read from
  the start; a named file that does not exist yet is waited for.
* **Compressed files** (``.gz``, ``.bz2``) are read once, whole, and remembered by identity.
* **Restarts**: positions (device, inode, offset, line number, first-line hash) are saved by
  :meth:`Follower.commit` in a :class:`~aiops_copilot.live.positions.PositionBook`; the next
  start resumes there, and if the file was rotated meanwhile it finds the old one by inode in
  the same folder and finishes it first. The caller commits only after the records read so
  far have been analysed, so a crash repeats records rather than losing them.

Files that existed at start and have no saved position are read from their end (like
``tail``), or from the start with ``from_start``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger

from aiops_copilot.ingest.reader import IngestRun, ReadOptions, iter_records
from aiops_copilot.ingest.sources import Source, expand_inputs, os_reason, rotation_key
from aiops_copilot.live.folding import FoldOptions, RecordFolder
from aiops_copilot.live.lines import LineSplitter
from aiops_copilot.live.positions import Position, PositionBook, ReadOnce, identity
from aiops_copilot.models import LogRecord

_CHUNK = 256 * 1024
_HEAD_BYTES = 4096
#: Rank kind :func:`rotation_key` gives a live (not rotated) file name.
_LIVE_RANK = 2
#: Reasons :func:`expand_inputs` gives for a folder or glob that holds no logs (yet).
_NOTHING_YET = ("no files match", "is a directory with no log files", "pattern matched")


@dataclass(frozen=True, slots=True)
class FollowOptions:
    max_line_bytes: int = 65536
    sample_lines: int = 200
    forced_format: str | None = None
    #: Files present at start without a saved position: read them whole (else from the end).
    from_start: bool = False
    #: Quiet this long, a file's last record is complete (no more continuation lines).
    settle_seconds: float = 1.0
    #: A rotated-away file is read until it has been quiet this long.
    rotate_grace: float = 5.0
    discover_seconds: float = 2.0
    read_budget: int = 1 << 20
    batch_records: int = 1000


@dataclass(slots=True)
class FollowStats:
    files: int = 0
    lines: int = 0
    records: int = 0
    invalid_utf8_lines: int = 0
    cut_lines: int = 0
    rotations: int = 0
    truncations: int = 0
    read_once: int = 0


@dataclass(frozen=True, slots=True)
class FollowedFile:
    """A file as the live view lists it."""

    name: str
    format: str
    lines: int
    state: str  # following, draining, waiting, reading once


class _Tail:
    """One open file being followed."""

    def __init__(
        self,
        key: str,
        name: str,
        options: FollowOptions,
        now: float,
        *,
        fd: int | None = None,
        dev: int = 0,
        ino: int = 0,
        offset: int = 0,
        line_no: int = 0,
    ) -> None:
        self.key = key
        self.name = name
        self.fd = fd
        self.dev = dev
        self.ino = ino
        self.head: str | None = None
        self.splitter = LineSplitter(options.max_line_bytes, offset=offset, line_no=line_no)
        self.folder = RecordFolder(
            name,
            FoldOptions(sample_lines=options.sample_lines, forced_format=options.forced_format),
        )
        self.last_data = now
        self.size_checked = -1
        self.missing_since: float | None = None

    @property
    def read_pos(self) -> int:
        return self.splitter.consumed + self.splitter.buffered

    def committed(self) -> tuple[int, int]:
        """(offset, lines) through the last line handed out as part of a record."""
        held = self.folder.held
        if held:
            return held[0].start, held[0].number - 1
        return self.splitter.consumed, self.splitter.line_no

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _Once:
    """A file read once from start to end (compressed, or a rotated member at start)."""

    def __init__(self, ident: str, source: Source, entry: ReadOnce, options: ReadOptions) -> None:
        self.ident = ident
        self.entry = entry
        self.name = source.name
        records = iter_records(IngestRun(sources=[source], skipped=[]), options)
        self.records: Iterator[LogRecord] = itertools.islice(records, entry.records, None)


class Follower:
    """Follows ``targets`` (files, folders, globs); :meth:`poll` yields record batches."""

    def __init__(
        self,
        targets: Sequence[str],
        options: FollowOptions | None = None,
        *,
        positions: PositionBook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.targets = list(targets)
        self.options = options or FollowOptions()
        self.book = positions or PositionBook(None)
        self.stats = FollowStats()
        self._clock = clock
        self._tails: dict[str, _Tail] = {}
        self._retired: list[_Tail] = []
        self._once: list[_Once] = []
        self._waiting: dict[str, str] = {}  # key -> name: named files not there yet
        self._warned: set[str] = set()
        self._next_discovery = 0.0
        self._started = False
        #: Bytes or records came in during the last poll (the caller polls again at once).
        self.busy = False
        self._read_options = ReadOptions(
            max_line_bytes=self.options.max_line_bytes,
            sample_lines=self.options.sample_lines,
            forced_format=self.options.forced_format,
        )

    # -- the poll loop -----------------------------------------------------------------

    def start(self) -> None:
        """Find the files and take their starting positions: "now" for files read from
        the end. :meth:`poll` starts by itself if this was not called."""
        if not self._started:
            self._discover(initial=True)
            self._started = True
            self._next_discovery = self._clock() + self.options.discover_seconds

    def poll(self) -> Iterator[list[LogRecord]]:
        """One pass over every file: find new ones when due, read what was appended, and
        yield the records that are complete, in batches of at most ``batch_records``."""
        self.busy = False
        self.start()
        now = self._clock()
        if now >= self._next_discovery:
            self._discover(initial=False)
            self._next_discovery = now + self.options.discover_seconds
        for tail in list(self._retired):
            yield from self._batches(self._drain_retired(tail, now))
        for tail in list(self._tails.values()):
            yield from self._batches(self._poll_tail(tail, now))
        yield from self._read_once_step()

    def finish(self) -> Iterator[list[LogRecord]]:
        """At shutdown: drain rotated-away files, hand out every held record; unfinished
        last lines stay unread (the next start resumes before them)."""
        for tail in list(self._retired):
            while self._read(tail, budget=self.options.read_budget):
                yield from self._batches(tail.folder.take(final=False))
            yield from self._batches(self._finish_retired(tail))
        # Followed files are not read further: a stop must not wait for a backlog, and
        # the next start resumes exactly here.
        for tail in self._tails.values():
            yield from self._batches(tail.folder.take(final=True))

    def commit(self) -> None:
        """Save positions through the records handed out so far (call once they are
        analysed)."""
        for tail in self._tails.values():
            if tail.fd is None:
                continue
            offset, line_no = tail.committed()
            self.book.files[tail.key] = Position(tail.dev, tail.ino, offset, line_no, tail.head)
        self.book.save()

    def close(self) -> None:
        for tail in [*self._tails.values(), *self._retired]:
            tail.close()
        self._tails.clear()
        self._retired.clear()

    def files(self) -> list[FollowedFile]:
        shown = [
            FollowedFile(t.name, t.folder.format, t.splitter.line_no, "following")
            for t in self._tails.values()
            if t.fd is not None
        ]
        shown += [
            FollowedFile(t.name, t.folder.format, t.splitter.line_no, "draining")
            for t in self._retired
        ]
        shown += [FollowedFile(o.name, "", o.entry.records, "reading once") for o in self._once]
        shown += [FollowedFile(name, "", 0, "waiting") for name in self._waiting.values()]
        return shown

    def _batches(self, records: list[LogRecord]) -> Iterator[list[LogRecord]]:
        if not records:
            return
        self.stats.records += len(records)
        size = self.options.batch_records
        for start in range(0, len(records), size):
            yield records[start : start + size]

    # -- one followed file -------------------------------------------------------------

    def _poll_tail(self, tail: _Tail, now: float) -> list[LogRecord]:
        records: list[LogRecord] = []
        if tail.fd is None:
            self._open_waiting(tail, now)
        else:
            records += self._check(tail, now)
        if tail.fd is None:
            return records
        if self._read(tail, budget=self.options.read_budget):
            tail.last_data = now
        quiet = now - tail.last_data >= self.options.settle_seconds
        return records + tail.folder.take(final=quiet)

    def _check(self, tail: _Tail, now: float) -> list[LogRecord]:
        """Rotation, truncation, replacement: what happened at the path since last time."""
        try:
            st = os.stat(tail.key)
        except FileNotFoundError:
            # Renamed away, the new one not there yet: keep reading the old file until it
            # has been quiet a while, then let it go (a named file is waited for again).
            if tail.missing_since is None:
                tail.missing_since = now
            grace = self.options.rotate_grace
            if now - tail.missing_since < grace or now - tail.last_data < grace:
                return []
            return self._let_go(tail, now)
        except OSError as exc:
            self._warn_once(tail.key, f"{tail.name}: {os_reason(exc)}")
            return []
        tail.missing_since = None
        if (st.st_dev, st.st_ino) != (tail.dev, tail.ino):
            self.stats.rotations += 1
            logger.info("{}: rotated; finishing the old file, then reading the new one", tail.name)
            self._retired.append(tail)
            fresh = _Tail(tail.key, tail.name, self.options, now)
            self._tails[tail.key] = fresh
            self._open_tail(fresh, offset=0, line_no=0)
            return []
        if st.st_size < tail.read_pos:
            return self._restart(tail, "truncated")
        if st.st_size != tail.size_checked:
            tail.size_checked = st.st_size
            head = _head(tail.fd)
            if tail.head is None:
                tail.head = head
            elif head is not None and head != tail.head and tail.read_pos > 0:
                return self._restart(tail, "replaced in place")
        return []

    def _let_go(self, tail: _Tail, now: float) -> list[LogRecord]:
        """A followed file vanished for good: hand out what it had, close it."""
        self._read(tail, budget=None)
        tail.folder.add(self._count(tail, tail.splitter.finish()))
        records = tail.folder.take(final=True)
        tail.close()
        del self._tails[tail.key]
        self.book.forget(tail.key)
        logger.info("{}: gone; no longer followed", tail.name)
        if tail.name in self.targets:
            self._tails[tail.key] = _Tail(tail.key, tail.name, self.options, now)
            self._waiting[tail.key] = tail.name
        return records

    def _restart(self, tail: _Tail, why: str) -> list[LogRecord]:
        """Read the file again from its first byte; what was read before is handed out."""
        self.stats.truncations += 1
        logger.info("{}: {}; reading it again from the start", tail.name, why)
        records = tail.folder.take(final=True)
        self._count(tail, tail.splitter.finish())
        tail.splitter = LineSplitter(self.options.max_line_bytes)
        tail.folder.reset()
        tail.head = _head(tail.fd)
        tail.size_checked = -1
        return records

    def _read(self, tail: _Tail, *, budget: int | None) -> bool:
        """Read appended bytes (up to ``budget``) into lines; True if any came."""
        if tail.fd is None:
            return False
        got = 0
        while budget is None or got < budget:
            try:
                data = os.pread(tail.fd, _CHUNK, tail.read_pos)
            except OSError as exc:
                self._warn_once(tail.key, f"{tail.name}: read error: {os_reason(exc)}")
                break
            if not data:
                break
            got += len(data)
            tail.folder.add(self._count(tail, tail.splitter.feed(data)))
        if got:
            self.busy = True
            if tail.head is None:
                tail.head = _head(tail.fd)
        return got > 0

    def _count(self, tail: _Tail, lines: list[Any]) -> list[Any]:
        splitter = tail.splitter
        self.stats.lines += len(lines)
        self.stats.cut_lines += splitter.cut
        self.stats.invalid_utf8_lines += splitter.invalid_utf8
        splitter.cut = splitter.invalid_utf8 = 0
        return lines

    # -- rotated-away files ------------------------------------------------------------

    def _drain_retired(self, tail: _Tail, now: float) -> list[LogRecord]:
        if self._read(tail, budget=self.options.read_budget):
            tail.last_data = now
            return tail.folder.take(final=False)
        if now - tail.last_data < self.options.rotate_grace:
            return tail.folder.take(final=now - tail.last_data >= self.options.settle_seconds)
        return self._finish_retired(tail)

    def _finish_retired(self, tail: _Tail) -> list[LogRecord]:
        tail.folder.add(self._count(tail, tail.splitter.finish()))
        records = tail.folder.take(final=True)
        tail.close()
        if tail in self._retired:
            self._retired.remove(tail)
        return records

    # -- read-once files ---------------------------------------------------------------

    def _read_once_step(self) -> Iterator[list[LogRecord]]:
        budget = self.options.batch_records * 10
        for once in list(self._once):
            batch = list(itertools.islice(once.records, budget))
            once.entry.records += len(batch)
            if batch:
                self.busy = True
                yield from self._batches(batch)
            if len(batch) < budget:
                once.entry.done = True
                self._once.remove(once)

    # -- discovery ---------------------------------------------------------------------

    def _discover(self, *, initial: bool) -> None:
        sources, skips = expand_inputs(self.targets)
        for skip in skips:
            key = os.path.abspath(skip.target)
            if skip.reason == "no such file or directory" and skip.target in self.targets:
                if key not in self._tails and key not in self._waiting:
                    self._waiting[key] = skip.target
                    self._tails[key] = _Tail(key, skip.target, self.options, self._clock())
                    logger.info("{}: not there yet; waiting for it", skip.target)
                continue
            if skip.target in self.targets and skip.reason.startswith(_NOTHING_YET):
                if skip.target not in self._warned:  # a folder or glob may fill up later
                    self._warned.add(skip.target)
                    logger.info("{}: {}; watching for files", skip.target, skip.reason)
                continue
            self._warn_once(skip.target, f"skipped {skip.target}: {skip.reason}")
        followed = {self._sibling_key(t.key) for t in self._tails.values()}
        followed.update(
            self._sibling_key(os.path.abspath(s.path))
            for s in sources
            if s.path is not None
            and s.compression is None
            and rotation_key(os.path.basename(s.path))[1][0] == _LIVE_RANK
        )
        following = {identity(t.dev, t.ino) for t in [*self._tails.values(), *self._retired]}
        for source in sources:
            if source.path is None:
                continue
            key = os.path.abspath(source.path)
            if key in self._tails:
                continue
            try:
                st = os.stat(key)
            except OSError:
                continue
            ident = identity(st.st_dev, st.st_ino)
            if ident in following:
                continue
            known = self.book.once.get(ident)
            if known is not None:
                if not known.done and ident not in {o.ident for o in self._once}:
                    self._once.append(_Once(ident, source, known, self._read_options))
                continue
            base, rank = rotation_key(os.path.basename(key))
            rotated = rank[0] != _LIVE_RANK
            has_live = (os.path.dirname(key), base) in followed
            if source.compression is not None or (rotated and has_live):
                read = source.name in self.targets or self.options.from_start or not initial
                if rotated and has_live and not (initial and self.options.from_start):
                    read = False  # its lines came through the file it was rotated from
                self._start_once(ident, source, read=read)
                continue
            self._follow(key, source.name, st, initial=initial)
        self.stats.files = len(self._tails) + len(self._retired) + len(self._once)

    @staticmethod
    def _sibling_key(key: str) -> tuple[str, str]:
        return os.path.dirname(key), rotation_key(os.path.basename(key))[0]

    def _start_once(self, ident: str, source: Source, *, read: bool) -> None:
        entry = ReadOnce(path=source.name, done=not read)
        self.book.once[ident] = entry
        if read:
            self.stats.read_once += 1
            self._once.append(_Once(ident, source, entry, self._read_options))

    def _follow(self, key: str, name: str, st: os.stat_result, *, initial: bool) -> None:
        now = self._clock()
        tail = _Tail(key, name, self.options, now)
        self._tails[key] = tail
        saved = self.book.files.get(key)
        if saved is not None and (saved.dev, saved.ino) != (st.st_dev, st.st_ino):
            # Rotated while we were stopped: finish the old file, then all of the new one.
            self._resume_rotated(key, name, saved, now)
            self._open_tail(tail, offset=0, line_no=0)
            return
        if saved is not None:
            self._open_tail(tail, offset=saved.offset, line_no=saved.line_no)
            if tail.fd is not None and (
                st.st_size < saved.offset or (saved.head and tail.head != saved.head)
            ):
                logger.info("{}: changed while not watched; reading it from the start", name)
                self._restart(tail, "changed while not watched")
            return
        if initial and not self.options.from_start:
            offset, line_no = _end_of_last_line(key)
            self._open_tail(tail, offset=offset, line_no=line_no)
        else:
            self._open_tail(tail, offset=0, line_no=0)

    def _resume_rotated(self, key: str, name: str, saved: Position, now: float) -> None:
        """The file was rotated while we were stopped: finish the old one (found by inode
        beside it) from where we stopped."""
        folder = os.path.dirname(key) or "."
        try:
            entries = list(os.scandir(folder))
        except OSError:
            entries = []
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (saved.dev, saved.ino) and entry.is_file():
                old = _Tail(entry.path, name, self.options, now)
                self._open_tail(old, offset=saved.offset, line_no=saved.line_no)
                if old.fd is not None:
                    logger.info("{}: rotated while stopped; finishing {}", name, entry.path)
                    self._retired.append(old)
                    self.stats.rotations += 1
                return
        logger.warning("{}: rotated while stopped and the old file is gone", name)

    def _open_waiting(self, tail: _Tail, now: float) -> None:
        if not os.path.exists(tail.key):
            return
        self._waiting.pop(tail.key, None)
        logger.info("{}: appeared; reading it", tail.name)
        tail.last_data = now
        self._open_tail(tail, offset=0, line_no=0)

    def _open_tail(self, tail: _Tail, *, offset: int, line_no: int) -> None:
        try:
            fd = os.open(tail.key, os.O_RDONLY)
        except OSError as exc:
            self._warn_once(tail.key, f"{tail.name}: cannot open: {os_reason(exc)}")
            return
        opened = os.fstat(fd)
        tail.fd, tail.dev, tail.ino = fd, opened.st_dev, opened.st_ino
        tail.splitter = LineSplitter(self.options.max_line_bytes, offset=offset, line_no=line_no)
        tail.head = _head(fd)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)


def _head(fd: int | None) -> str | None:
    """A hash of the file's first line (or first 4 KiB), None until there is one."""
    if fd is None:
        return None
    try:
        data = os.pread(fd, _HEAD_BYTES, 0)
    except OSError:
        return None
    newline = data.find(b"\n")
    if newline >= 0:
        data = data[:newline]
    elif len(data) < _HEAD_BYTES:
        return None
    return hashlib.sha1(data).hexdigest()[:16]


def _end_of_last_line(path: str) -> tuple[int, int]:
    """Offset just past the last newline and the number of lines before it: where ``tail``
    starts, with line numbers that still match the file."""
    lines = 0
    last_newline = -1
    offset = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                count = chunk.count(b"\n")
                if count:
                    lines += count
                    last_newline = offset + chunk.rfind(b"\n")
                offset += len(chunk)
    except OSError:
        return 0, 0
    return last_newline + 1, lines
