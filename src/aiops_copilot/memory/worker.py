"""Memory in a worker process that gets ready while the analysis parses.

Why: for a one-shot ``aiops analyze`` of a small file, opening memory is the largest fixed
cost -- importing Qdrant's client builds several hundred pydantic models (about half a second
here) and the embedding model is read from disk -- while the analysis itself takes about as
long. Both are single-threaded Python, so a thread would only take turns with the parser under
the GIL; a forked process uses the second core instead. The worker starts the moment
``analyze`` begins, imports Qdrant and loads the model, and then answers the fixers' memory
look-ups over a pipe. By the time the first incident needs a runbook the imports are done.

Safety: before its first request the worker only imports and reads (it opens a memory folder
that already exists, which reads it), so an analysis that finds no incident can stop it at
once without touching the memory folder. Once a request arrived,
closing waits for the worker to finish (``remember`` is a write: nothing may be lost). Any
failure of the worker ends in one warning and the analysis going on without memory, exactly
like an unavailable Qdrant. Where ``fork`` is not the platform's way to start processes
(macOS, Windows), or with one CPU, memory opens in-process as before.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from loguru import logger

from aiops_copilot.models import Diagnosis, Incident, RunbookPassage, SimilarIncident

__all__ = ["BackgroundRecall", "can_fork", "start_worker"]

#: Seconds ``close`` waits for a worker that was asked something to finish its writes.
CLOSE_TIMEOUT = 120.0


def can_fork() -> bool:
    """True where a forked worker can run beside the parent: Linux-style ``fork`` and at
    least two CPUs (with one, the worker would only take turns with the analysis)."""
    if not sys.platform.startswith("linux"):
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return (os.cpu_count() or 1) >= 2


def _prewarm() -> None:
    """Import Qdrant's client and load the embedding model: reads only, never writes."""
    try:
        import qdrant_client  # noqa: F401  (the import is the point)

        from aiops_copilot.memory.embedding import default_embedder

        default_embedder().embed_one("warm up")
    except Exception as exc:  # reported properly when memory is opened
        logger.debug("memory worker: prewarm failed: {}", exc)


def start_worker(settings: Any) -> tuple[BaseProcess, Connection]:
    """Fork a worker; ``None`` settings: it prewarms, then waits for ``("settings", ...)``
    (:mod:`aiops_copilot.memory.early` starts it before the settings are known)."""
    context = multiprocessing.get_context("fork")
    conn, child_conn = context.Pipe()
    process = context.Process(
        target=_serve, args=(settings, child_conn), name="aiops-memory", daemon=True
    )
    process.start()
    child_conn.close()
    return process, conn


def _serve(settings: Any, conn: Connection) -> None:
    """The worker's loop: prewarm, then answer ``(operation, args)`` until ``close``."""
    # Ctrl-C belongs to the parent, which decides whether to wait for us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    early = settings is None
    if early:  # forked before the CLI set up logging: silent until it says how verbose
        logger.remove()
    _prewarm()
    from aiops_copilot.memory.runtime import LazyRecall

    if early:
        try:
            operation, args = conn.recv()
        except (EOFError, OSError):
            return
        if operation != "settings":
            conn.send(("ok", None))  # closed before it was ever used
            return
        settings, verbosity = args
        from aiops_copilot.logs import setup_logging

        setup_logging(verbosity)
    lazy = LazyRecall(settings)
    try:
        lazy.prepare()
    except Exception as exc:  # the first request reports it properly
        logger.debug("memory worker: prepare failed: {}", exc)
    try:
        while True:
            try:
                operation, args = conn.recv()
            except (EOFError, OSError):
                return
            if operation == "close":
                lazy.close()
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", getattr(lazy, operation)(*args)))
            except Exception as exc:
                conn.send(("error", " ".join(str(exc).split()) or type(exc).__name__))
    finally:
        lazy.close()


class BackgroundRecall:
    """The same look-ups as :class:`~aiops_copilot.memory.runtime.LazyRecall`, answered by
    a forked worker. Never raises: a dead or failing worker means no memory, said once."""

    def __init__(self, settings: Any) -> None:
        from aiops_copilot.logs import current_verbosity
        from aiops_copilot.memory.early import adopt

        early = adopt()
        if early is None:
            self._process, self._conn = start_worker(settings)
        else:
            self._process, self._conn = early
            try:
                self._conn.send(("settings", (settings, current_verbosity())))
            except (OSError, ValueError):  # it died since: start a fresh one
                self._conn.close()
                self._process, self._conn = start_worker(settings)
        self._asked = False
        self._broken = False

    def _call(self, operation: str, *args: Any) -> Any:
        if self._broken:
            return None
        self._asked = True
        try:
            self._conn.send((operation, args))
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._give_up(f"memory worker stopped ({type(exc).__name__})")
            return None
        if status != "ok":
            self._give_up(f"memory worker failed: {value}")
            return None
        return value

    def _give_up(self, message: str) -> None:
        self._broken = True
        sys.stderr.write(f"aiops: warning: {message}; running without memory\n")

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        found: list[SimilarIncident] | None = self._call(
            "similar_incidents", incident, k, diagnosis
        )
        return found or []

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        found: list[RunbookPassage] | None = self._call("runbook_passages", incident, k, diagnosis)
        return found or []

    def remember(self, incidents: Sequence[Incident]) -> int:
        if not incidents:
            return 0
        stored: int | None = self._call("remember", list(incidents))
        return stored or 0

    def close(self) -> None:
        """Stop the worker: at once when it was never asked anything (it has only imported),
        else after it has closed memory cleanly."""
        process = self._process
        if not self._asked:
            if process.is_alive():
                process.kill()
            process.join(5)
        else:
            try:
                self._conn.send(("close", ()))
                if self._conn.poll(CLOSE_TIMEOUT):
                    self._conn.recv()
            except (EOFError, OSError):
                pass
            process.join(CLOSE_TIMEOUT)
            if process.is_alive():
                logger.warning("memory worker did not stop in {} s; stopping it", CLOSE_TIMEOUT)
                process.kill()
                process.join(5)
        self._conn.close()
