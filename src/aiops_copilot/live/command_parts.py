"""What ``aiops watch`` and ``aiops consume`` both wire around a live pipeline, written once.

Why: the two commands differ only in where records come from (files and syslog, or a broker's
stream). Everything around the pipeline is the same and must stay the same for both: the
window options, the check of a forced log format, the knowledge base, where incidents go
(a line on stdout, the notify targets), and the way out (SIGINT and SIGTERM only set a flag
the loop checks, so a stop always ends the way a run ends). A fix here reaches both commands.
Only the standard library and Typer are imported up front: the command modules import this
one when the CLI starts, and every other command should start as fast as before.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from loguru import logger

if TYPE_CHECKING:
    from aiops_copilot.config import Settings
    from aiops_copilot.knowledge.loader import KnowledgeBase
    from aiops_copilot.models import Incident
    from aiops_copilot.notify import Notifier

__all__ = [
    "IncidentOutput",
    "MaxWindowRecordsOpt",
    "WindowOpt",
    "check_format",
    "load_kb",
    "notifier_for",
    "stop_on_signals",
]

WindowOpt = Annotated[
    float, typer.Option("--window", min=0.1, help="Seconds of records analysed together.")
]
MaxWindowRecordsOpt = Annotated[
    int,
    typer.Option("--max-window-records", min=1, help="A fuller window is analysed early."),
]


def check_format(forced: str | None, fail: Callable[[str], Any]) -> None:
    """Fail before anything slow starts when ``forced`` names no known log format."""
    if forced is None:
        return
    from aiops_copilot.ingest.formats import format_names, get_format

    try:
        get_format(forced)
    except KeyError:
        fail(f"unknown log format {forced!r}; known: {', '.join(format_names())}")


def load_kb(kb_paths: list[Path] | None) -> KnowledgeBase:
    """The knowledge base; its problems are warnings, since a live run should still start."""
    from aiops_copilot.knowledge.loader import load_knowledge

    kb = load_knowledge(kb_paths or [])
    for problem in kb.problems:
        logger.warning("knowledge base: {}", problem)
    return kb


def notifier_for(settings: Settings) -> Notifier | None:
    """The notify targets, when ``[notify]`` configures any (None otherwise, so that a run
    without targets starts no sender threads)."""
    if getattr(settings, "notify", None) is None:
        return None
    try:
        from aiops_copilot.notify import Notifier
    except ImportError:  # pragma: no cover - the notify package is part of the tree
        return None
    notifier = Notifier.from_settings(settings)
    if not notifier.configured:
        notifier.close()
        return None
    return notifier


class IncidentOutput:
    """Where the pipeline's incidents go: printed as lines (unless a live board shows them)
    and sent to the notify targets. Called from whichever thread concluded the window."""

    def __init__(self, settings: Settings, *, print_lines: bool) -> None:
        from aiops_copilot.live.view import LinePrinter

        self._printer = LinePrinter(sys.stdout) if print_lines else None
        self.notifier = notifier_for(settings)

    def __call__(self, incident: Incident, change: str) -> None:
        if self._printer is not None:
            self._printer(incident, change)
        if self.notifier is not None:
            self.notifier.notify(incident, change)

    def close(self) -> None:
        """Let the notify targets deliver what is queued, then stop them."""
        if self.notifier is not None:
            self.notifier.close()


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` while the block runs; the loop then ends the way it
    always ends. The previous handlers are restored after. Off the main thread (tests that
    run a command's loop directly) signals cannot be caught, and nothing is installed."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(ValueError):  # not the main thread
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
