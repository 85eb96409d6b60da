"""A progress bar for long reads, on stderr, only when a human is watching.

Why these rules:

* stderr, never stdout: stdout carries the report and is often redirected to a file or piped
  into ``jq``; a bar there would corrupt it.
* Only when stderr is a terminal and not ``--quiet``: in CI logs, cron mail and ``2> file``
  redraw sequences are noise.
* Measured in bytes read against the total size: that is the only measure known up front.
  When any size is unknown (stdin, compressed files, FIFOs) the bar is indeterminate (a
  pulsing bar with a byte counter and speed) rather than a made-up percentage.
* Transient: the report, not the bar, is what should stay on screen.
* Cheap per line: readers call :meth:`ReadProgress.advance` or :meth:`ReadProgress.sync` for
  every line; those only add to a counter and hand the total to rich every 64 KiB, and rich
  redraws at most 10 times a second from its own thread. When disabled the same object is a
  no-op whose step is "never", so callers need no ``if``.

Typical use::

    with ReadProgress(total_size(sources), quiet=args.quiet) as progress:
        for src in sources:
            progress.set_source(src.name)
            stats = ReadStats()
            for line_no, line in read_lines(src, stats):
                progress.sync(stats.bytes)
                ...
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self, TextIO, TypedDict, Unpack

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["DisplayOptions", "ReadProgress", "TerminalProgress"]

#: Bytes accumulated before rich is told; 64 KiB is ~1000 updates/s at 64 MB/s, invisible cost.
DEFAULT_STEP_BYTES = 64 * 1024

_NEVER = sys.maxsize
_NAME_WIDTH = 40


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or exotic streams
        return False


def _shorten(name: str, width: int = _NAME_WIDTH) -> str:
    """Keep the end of long paths: the file name is the informative part."""
    return name if len(name) <= width else "…" + name[-(width - 1) :]


class DisplayOptions(TypedDict, total=False):
    """Whether and where a :class:`TerminalProgress` draws; subclasses pass them on as is."""

    enabled: bool | None
    quiet: bool
    stream: TextIO | None


class TerminalProgress:
    """A rich progress display on stderr that follows the rules above, as a context manager.

    Why a base: the read bar and the Dask display (:mod:`aiops_copilot.distributed.progress`)
    must decide alike whether to draw, and appear and go alike; a subclass names only its
    extra columns (:meth:`_columns`), its rows (:meth:`_started`) and what to hand rich
    before the display goes (:meth:`_stopping`).

    ``enabled=None`` (the default) means "if ``stream`` is a terminal"; ``quiet`` always wins.
    Passing ``enabled=True`` forces drawing even on a non-terminal stream (used by tests).
    """

    def __init__(
        self,
        *,
        enabled: bool | None = None,
        quiet: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self._stream = stream
        target = stream if stream is not None else sys.stderr
        if quiet:
            enabled = False
        elif enabled is None:
            enabled = _is_terminal(target)
        self.enabled: bool = enabled
        self._forced = enabled and not _is_terminal(target)
        self._progress: Progress | None = None

    def _columns(self) -> tuple[ProgressColumn, ...]:
        """The columns after the spinner, the description and the bar."""
        return ()

    def _started(self, progress: Progress) -> None:
        """Add the rows shown from the start (none by default)."""

    def _stopping(self) -> None:
        """Hand rich what it has not been told yet, just before the display goes."""

    def __enter__(self) -> Self:
        if self.enabled:
            force = self._forced or None
            console = (
                Console(stderr=True, force_terminal=force)
                if self._stream is None
                else Console(file=self._stream, force_terminal=force)
            )
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", style="cyan"),
                BarColumn(),
                *self._columns(),
                console=console,
                transient=True,  # the report, not the bar, is what should stay on screen
                redirect_stdout=False,  # stdout is the report: never route it through rich
            )
            self._progress.start()
            self._started(self._progress)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the display; safe to call twice."""
        if self._progress is not None:
            self._stopping()
            self._progress.stop()
            self._progress = None


class ReadProgress(TerminalProgress):
    """Context manager showing bytes read across all sources.

    ``enabled``, ``quiet`` and ``stream`` as for :class:`TerminalProgress`.
    ``total_bytes=None`` gives an indeterminate bar.
    """

    def __init__(
        self,
        total_bytes: int | None,
        *,
        step_bytes: int = DEFAULT_STEP_BYTES,
        **options: Unpack[DisplayOptions],
    ) -> None:
        super().__init__(**options)
        self.total_bytes = total_bytes
        self._step = max(1, step_bytes) if self.enabled else _NEVER
        self._pending = 0  # bytes advanced but not yet handed to rich
        self._seen = 0  # last value given to sync() for the current source
        self._task: TaskID | None = None
        self.completed = 0  # bytes handed to rich so far (for tests and summaries)

    # -- the display -------------------------------------------------------------------------

    def _columns(self) -> tuple[ProgressColumn, ...]:
        return (DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())

    def _started(self, progress: Progress) -> None:
        self._task = progress.add_task("reading", total=self.total_bytes)

    def _stopping(self) -> None:
        """Flush: the bar ends at what was read."""
        self._flush()

    # -- the per-line API --------------------------------------------------------------------

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes read; hands them to rich only every ``step_bytes``."""
        self._pending += n
        if self._pending >= self._step:
            self._flush()

    def sync(self, source_bytes: int) -> None:
        """Report the running byte count of the current source (e.g. ``stats.bytes``).

        Convenient with :class:`~aiops_copilot.ingest.reading.ReadStats`, whose ``bytes`` is
        exact uncompressed bytes; the counter restarts at each :meth:`set_source`.
        """
        delta = source_bytes - self._seen
        if delta >= self._step:
            self._seen = source_bytes
            self._pending += delta
            self._flush()

    def set_source(self, name: str) -> None:
        """Show which source is being read; resets the :meth:`sync` baseline."""
        self._seen = 0
        if self._progress is not None and self._task is not None:
            self._flush()
            self._progress.update(self._task, description=_shorten(name))

    def _flush(self) -> None:
        if self._progress is not None and self._task is not None and self._pending:
            self._progress.update(self._task, advance=self._pending)
            self.completed += self._pending
        self._pending = 0
