"""``aiops watch``: follow files and/or receive syslog, analyse in windows, show what is open.

The loop is single-threaded on purpose: poll the files, feed the pipeline, conclude the
window when it is due, save the positions, redraw. Syslog listeners feed the same pipeline
from their own threads. Ctrl-C and SIGTERM only set a flag the loop checks, so the way out is
always the same: read what is left, conclude the last window, save positions, exit 0.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from loguru import logger

from aiops_copilot.cli_options import ExitAfterIdleOpt, KbPathsOpt, LogFormatOpt, NoMemoryOpt
from aiops_copilot.live import command_parts as parts

if TYPE_CHECKING:  # imported when the command runs: every other command starts faster
    from aiops_copilot.config import LoadedConfig, Settings
    from aiops_copilot.live.follow import Follower, FollowOptions
    from aiops_copilot.live.pipeline import LivePipeline
    from aiops_copilot.live.positions import PositionBook
    from aiops_copilot.live.syslog import SyslogServer
    from aiops_copilot.models import LogRecord

#: How often the terminal board is redrawn at most.
_REDRAW_SECONDS = 0.5


def positions_file() -> Path:
    """Where ``aiops watch`` keeps file positions by default (beside the default store)."""
    from aiops_copilot.xdg import data_home

    return data_home() / "aiops" / "watch-positions.json"


def watch(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files, folders or globs to follow.", show_default=False),
    ] = None,
    syslog: Annotated[
        list[str] | None,
        typer.Option(
            "--syslog",
            help="Receive syslog too: udp://HOST:PORT or tcp://HOST:PORT (repeatable).",
            show_default=False,
        ),
    ] = None,
    window: parts.WindowOpt = 60.0,
    max_window_records: parts.MaxWindowRecordsOpt = 200_000,
    from_start: Annotated[
        bool,
        typer.Option(
            "--from-start", help="Read files present at start from their beginning (not the end)."
        ),
    ] = False,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state-file",
            help="Where file positions are kept across restarts "
            "(default: ~/.local/share/aiops/watch-positions.json).",
            show_default=False,
        ),
    ] = None,
    no_state: Annotated[
        bool, typer.Option("--no-state", help="Neither resume from nor save positions.")
    ] = False,
    log_format: LogFormatOpt = None,
    kb_paths: KbPathsOpt = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store incidents in this SQLite file or database URL (default as for analyze).",
            show_default=False,
        ),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store anything.")] = False,
    no_memory: NoMemoryOpt = False,
    poll: Annotated[
        float, typer.Option("--poll", min=0.01, help="Seconds between looks at the files.")
    ] = 0.25,
    exit_after_idle: ExitAfterIdleOpt = None,
    max_windows: Annotated[
        int | None,
        typer.Option(
            "--max-windows", min=1, help="Stop after this many windows.", show_default=False
        ),
    ] = None,
) -> None:
    """Follow logs like tail -F (rotation, truncation, restarts) and/or receive syslog, find
    incidents every --window seconds, store them, and show the open ones. Ctrl-C stops
    cleanly: the last window is analysed and positions are saved."""
    from aiops_copilot.cli import _guarded, _load, fail
    from aiops_copilot.live.positions import PositionBook

    targets = paths or []
    listeners = syslog or []
    if not targets and not listeners:
        fail("nothing to watch: name files, folders or globs, or --syslog udp://HOST:PORT")
    if "-" in targets:
        fail("watch follows files; to analyse standard input use: aiops analyze -")
    if db is not None and no_store:
        fail("--db and --no-store contradict each other")
    if no_state and state_file is not None:
        fail("--state-file and --no-state contradict each other")
    loaded = _load(
        {
            "ingest.format": log_format,
            "store.url": db,
            "store.enabled": False if no_store else None,
            "memory.enabled": False if no_memory else None,
        }
    )
    parts.check_format(loaded.settings.ingest.format, fail)
    servers = [_server(url, fail) for url in listeners]
    book = PositionBook(None if no_state else (state_file or positions_file()))
    options = _follow_options(loaded.settings, from_start)
    limits = _Limits(exit_after_idle, max_windows, poll)

    def work() -> None:
        _run(loaded, targets, servers, book, options, limits, window, max_window_records, kb_paths)

    _guarded(work)


class _Limits:
    def __init__(self, idle: float | None, windows: int | None, poll: float) -> None:
        self.idle = idle
        self.windows = windows
        self.poll = poll


def _run(
    loaded: LoadedConfig,
    targets: list[str],
    servers: list[SyslogServer],
    book: PositionBook,
    options: FollowOptions,
    limits: _Limits,
    window: float,
    max_window_records: int,
    kb_paths: list[Path] | None,
) -> None:
    from aiops_copilot.cli import _console, _state, fail
    from aiops_copilot.live.follow import Follower
    from aiops_copilot.store.location import StoreError

    console = _console()
    live_view = console.is_terminal and not _state.get("quiet")
    handoff = _Handoff()
    # Listen first: a port in use is reported before anything slow is loaded, and what
    # arrives meanwhile waits in the hand-off until the pipeline exists.
    try:
        for server in servers:
            server.sink = handoff
            server.on_malformed = handoff.malformed
            try:
                server.start()
            except OSError as exc:
                fail(f"syslog: cannot listen on {server.url}: {exc.strerror or exc}")
        try:
            pipeline, output = _pipeline(loaded, kb_paths, window, max_window_records, live_view)
        except StoreError as exc:
            fail(str(exc))
        follower = None
        try:
            handoff.attach(pipeline)
            follower = Follower(targets, options, positions=book) if targets else None
            if follower is not None:
                follower.start()
            _ready(follower, servers, quiet=bool(_state.get("quiet")))
            stop = threading.Event()
            with parts.stop_on_signals(stop):
                _loop(pipeline, follower, servers, stop, limits, console if live_view else None)
            if follower is not None:
                for batch in follower.finish():
                    pipeline.feed(batch)
        finally:
            for server in servers:
                server.stop()
            pipeline.close()
            if follower is not None:
                _commit(follower)
                follower.close()
            output.close()
    finally:
        for server in servers:
            server.stop()
    _farewell(pipeline, servers)


def _pipeline(
    loaded: LoadedConfig,
    kb_paths: list[Path] | None,
    window: float,
    max_window_records: int,
    live_view: bool,
) -> tuple[LivePipeline, parts.IncidentOutput]:
    """The pipeline, with new and reopened incidents printed (off a terminal) and notified
    (when ``[notify]`` has targets); the caller closes the output after the pipeline."""
    from aiops_copilot.live.pipeline import LivePipeline

    settings = loaded.settings
    kb = parts.load_kb(kb_paths)
    output = parts.IncidentOutput(settings, print_lines=not live_view)
    try:
        pipeline = LivePipeline(
            settings,
            kb=kb,
            window_seconds=window,
            max_window_records=max_window_records,
            on_incident=output,
        )
    except BaseException:
        output.close()
        raise
    return pipeline, output


class _Handoff:
    """The syslog sink until the pipeline exists: holds what arrives (bounded), then passes
    it on and forwards everything after."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipeline: LivePipeline | None = None
        self._held: list[LogRecord] = []
        self._malformed = 0
        self.dropped = 0

    def __call__(self, records: list[LogRecord]) -> None:
        with self._lock:
            pipeline = self._pipeline
            if pipeline is None:
                room = max(0, self.LIMIT - len(self._held))
                self._held += records[:room]
                self.dropped += len(records) - min(room, len(records))
                return
        pipeline.feed(records)

    def malformed(self, count: int) -> None:
        with self._lock:
            pipeline = self._pipeline
            if pipeline is None:
                self._malformed += count
                return
        pipeline.note_parse_errors(count)

    def attach(self, pipeline: LivePipeline) -> None:
        with self._lock:
            self._pipeline = pipeline
            held, self._held = self._held, []
            malformed, self._malformed = self._malformed, 0
        pipeline.feed(held)
        pipeline.note_parse_errors(malformed)
        if self.dropped:
            logger.warning("syslog: {} record(s) dropped while starting up", self.dropped)


def _loop(
    pipeline: LivePipeline,
    follower: Follower | None,
    servers: list[SyslogServer],
    stop: threading.Event,
    limits: _Limits,
    console: Any,
) -> None:
    """Poll, feed, conclude, commit, redraw, until a signal or a limit says stop."""
    last_input = time.monotonic()
    ingested = 0
    listeners = [server.source for server in servers]
    with _board(console) as redraw:
        while not stop.is_set():
            busy = False
            if follower is not None:
                for batch in follower.poll():
                    pipeline.feed(batch)
                busy = follower.busy
            stats = pipeline.stats
            now = time.monotonic()
            if busy or stats.records_ingested != ingested:
                last_input = now
                ingested = stats.records_ingested
            concluded = pipeline.maybe_flush()
            if concluded is not None and follower is not None:
                _commit(follower)
            files = follower.files() if follower is not None else []
            redraw(pipeline, files, listeners)
            if limits.windows is not None and pipeline.stats.windows >= limits.windows:
                return
            if limits.idle is not None and now - last_input >= limits.idle:
                return
            if not busy:
                stop.wait(limits.poll)


@contextmanager
def _board(console: Any) -> Iterator[Callable[..., None]]:
    """A redraw function: the live board on a terminal, nothing otherwise."""
    if console is None:
        yield lambda *_args: None
        return
    from rich.live import Live

    from aiops_copilot.live.view import board

    last = [0.0]
    with Live(console=console, auto_refresh=False, transient=False) as live:

        def redraw(pipeline: LivePipeline, files: list[Any], listeners: list[str]) -> None:
            now = time.monotonic()
            if now - last[0] < _REDRAW_SECONDS:
                return
            last[0] = now
            live.update(
                board(pipeline.open_incidents(), pipeline.stats, files, listeners), refresh=True
            )

        yield redraw


def _commit(follower: Follower) -> None:
    try:
        follower.commit()
    except OSError as exc:
        logger.warning("positions not saved: {}", exc)


def _ready(follower: Follower | None, servers: list[SyslogServer], *, quiet: bool) -> None:
    """One line on stderr once everything listens: what is watched (scripts wait for it)."""
    if quiet:
        return
    what = []
    if follower is not None:
        files = follower.files()
        waiting = sum(1 for f in files if f.state == "waiting")
        what.append(
            f"{len(files) - waiting} file(s)" + (f" ({waiting} not there yet)" if waiting else "")
        )
    what += [server.source for server in servers]
    sys.stderr.write(f"aiops: watching {', '.join(what)}; Ctrl-C stops\n")
    sys.stderr.flush()


def _farewell(pipeline: LivePipeline, servers: list[SyslogServer]) -> None:
    from aiops_copilot.cli import _state

    if _state.get("quiet"):
        return
    stats = pipeline.stats
    malformed = sum(server.stats.malformed for server in servers)
    sys.stderr.write(
        f"aiops: watched {stats.records_ingested:,} record(s) in {stats.windows:,} window(s): "
        f"{stats.incidents_new:,} new, {stats.incidents_reopened:,} reopened, "
        f"{stats.incidents_updated:,} updated incident(s)"
        + (f"; {malformed:,} malformed syslog message(s) skipped" if malformed else "")
        + "\n"
    )


def _server(url: str, fail: Callable[[str], Any]) -> SyslogServer:
    from aiops_copilot.live.syslog import SyslogServer

    try:
        # The sink is set once the pipeline exists; until then nothing is listening.
        return SyslogServer(url, lambda _records: None)
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


def _follow_options(settings: Settings, from_start: bool) -> FollowOptions:
    from aiops_copilot.live.follow import FollowOptions

    return FollowOptions(
        max_line_bytes=settings.ingest.max_line_bytes,
        sample_lines=settings.ingest.sample_lines,
        forced_format=settings.ingest.format,
        from_start=from_start,
    )
