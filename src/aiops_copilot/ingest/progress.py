"""A progress bar for long reads, on stderr, only when a human is watching.

Why these rules:

* stderr, never stdout: stdout carries the report and is often redirected to a file or piped
  into ``jq``; a bar there would corrupt it.
* Only when stderr is a terminal and not ``--quiet``: in CI logs, cron mail and ``2> file``
  redraw sequences are noise.
* Measured in bytes read against the total size: that is the only measure known up front.
  When any size is unknown (stdin, compressed files, FIFOs) the bar is indeterminate (a
  pulsing bar with a byte counter and speed) rather than a made-up percentage.
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
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["ReadProgress"]

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


class ReadProgress:
    """Context manager showing bytes read across all sources.

    ``enabled=None`` (the default) means "if ``stream`` is a terminal"; ``quiet`` always wins.
    Passing ``enabled=True`` forces the bar even on a non-terminal stream (used by tests).
    ``total_bytes=None`` gives an indeterminate bar.
    """

    def __init__(
        self,
        total_bytes: int | None,
        *,
        enabled: bool | None = None,
        quiet: bool = False,
        stream: TextIO | None = None,
        step_bytes: int = DEFAULT_STEP_BYTES,
    ) -> None:
        self._stream = stream
        target = stream if stream is not None else sys.stderr
        if quiet:
            enabled = False
        elif enabled is None:
            enabled = _is_terminal(target)
        self.enabled: bool = enabled
        self.total_bytes = total_bytes
        self._forced = enabled and not _is_terminal(target)
        self._step = max(1, step_bytes) if enabled else _NEVER
        self._pending = 0  # bytes advanced but not yet handed to rich
        self._seen = 0  # last value given to sync() for the current source
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self.completed = 0  # bytes handed to rich so far (for tests and summaries)

    # -- context manager ---------------------------------------------------------------------

    def __enter__(self) -> ReadProgress:
        if self.enabled:
            if self._stream is None:
                console = Console(stderr=True, force_terminal=self._forced or None)
            else:
                console = Console(file=self._stream, force_terminal=self._forced or None)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", style="cyan"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,  # the report, not the bar, is what should stay on screen
                redirect_stdout=False,  # stdout is the report: never route it through rich
            )
            self._progress.start()
            self._task = self._progress.add_task("reading", total=self.total_bytes)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Flush and remove the bar; safe to call twice."""
        if self._progress is not None:
            self._flush()
            self._progress.stop()
            self._progress = None

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
