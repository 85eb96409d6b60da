"""Start the memory worker before the CLI is even imported, for a one-shot ``aiops analyze``.

Why: the worker's start-up (importing Qdrant's client, loading the embedding model: about a
second here) is the critical path of a small analysis, and the CLI's own imports (Typer,
pydantic-settings, SQLAlchemy ...) take a third of a second before ``analyze`` could fork it.
Forked from the entry point instead, the worker prepares on the second core while this process
imports the CLI and parses. It learns the run's settings later, through its pipe, when
:class:`~aiops_copilot.memory.worker.BackgroundRecall` adopts it; a worker nobody adopts (the
command failed its checks, memory is off in the configuration) only imported modules and is
stopped at exit, so it never touches the memory folder.

This module is imported before anything else of the CLI: it must stay cheap (standard library
only at import time).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

__all__ = ["adopt", "start_if_useful", "wanted"]

#: The worker started by :func:`start_if_useful` and not adopted yet.
_early: tuple[BaseProcess, Connection] | None = None

#: Options after which ``analyze`` opens no memory, or does not analyse at all.
_NO_MEMORY = frozenset({"--no-memory", "--help", "-h"})


def wanted(argv: Sequence[str]) -> bool:
    """True when ``argv`` is an ``analyze`` that will open memory, on a platform where a
    forked worker can run beside this process. A wrong guess costs little: a worker nobody
    adopts is stopped at exit."""
    if "analyze" not in argv or any(arg.split("=", 1)[0] in _NO_MEMORY for arg in argv):
        return False
    if os.environ.get("AIOPS_MEMORY__ENABLED", "").strip().lower() in {"0", "false", "no", "off"}:
        return False
    if not sys.platform.startswith("linux"):
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return (os.cpu_count() or 1) >= 2


def start_if_useful(argv: Sequence[str]) -> None:
    """Fork the memory worker now when :func:`wanted` says an analysis will need it."""
    global _early
    if _early is not None or not wanted(argv):
        return
    from aiops_copilot.memory.worker import start_worker

    _early = start_worker(None)


def adopt() -> tuple[BaseProcess, Connection] | None:
    """The early worker, handed over once (None when none was started, or it died)."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    process, conn = early
    if not process.is_alive():
        conn.close()
        return None
    return early
