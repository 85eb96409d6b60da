"""Memory for a command: from the effective settings to an open :class:`MemoryRecall`.

Kept apart from the CLI so that every command (``analyze``, ``kb add``/``search``, and later
``watch`` and the API) opens memory the same way and closes it when done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from aiops_copilot.models import Diagnosis, Incident, RunbookPassage, SimilarIncident

# Qdrant's client, numpy and the model are imported when memory is first opened: a command
# that never needs memory, or hands it to a worker process, never pays for them.
if TYPE_CHECKING:
    from aiops_copilot.memory.location import MemoryTarget
    from aiops_copilot.memory.recall import MemoryRecall
    from aiops_copilot.memory.vectors import VectorMemory


def target_of(settings: Any) -> MemoryTarget:
    """Where memory lives for these settings (``memory.*``, beside ``store.url``)."""
    from aiops_copilot.memory.location import resolve_target

    memory = settings.memory
    store = getattr(settings, "store", None)
    return resolve_target(
        qdrant_url=memory.qdrant_url,
        path=memory.path,
        database=getattr(store, "url", None),
        api_key=memory.qdrant_api_key,
    )


@contextmanager
def opened(settings: Any, *, required: bool = False) -> Iterator[VectorMemory | None]:
    """The vector memory, or ``None`` (disabled, in use, unreachable: said in one line)."""
    if not settings.memory.enabled and not required:
        yield None
        return
    from aiops_copilot.memory.location import open_memory

    memory = open_memory(target_of(settings), timeout=settings.memory.timeout, required=required)
    try:
        yield memory
    finally:
        if memory is not None:
            memory.close()


class LazyRecall:
    """A :class:`MemoryRecall` opened on first use: an analysis that finds no incident never
    pays for loading Qdrant and the model (about a second on a small machine)."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._memory: VectorMemory | None = None
        self._recall: MemoryRecall | None = None
        self._tried = False

    def _open(self) -> MemoryRecall | None:
        if not self._tried:
            self._tried = True
            from aiops_copilot.memory.location import open_memory
            from aiops_copilot.memory.recall import MemoryRecall

            settings = self._settings
            self._memory = open_memory(target_of(settings), timeout=settings.memory.timeout)
            if self._memory is not None:
                self._recall = MemoryRecall(self._memory)
        return self._recall

    def prepare(self) -> None:
        """Open memory now if that changes nothing on disk: a local folder that already
        exists (a worker does this while the analysis parses). A folder that does not exist
        yet is created only when an incident needs it; a server is reached only then too."""
        path = target_of(self._settings).path
        if path is not None and path.is_dir():
            self._open()

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        opened_recall = self._open()
        return opened_recall.similar_incidents(incident, k, diagnosis) if opened_recall else []

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        opened_recall = self._open()
        return opened_recall.runbook_passages(incident, k, diagnosis) if opened_recall else []

    def remember(self, incidents: Sequence[Incident]) -> int:
        if not incidents:
            return 0
        opened_recall = self._open()
        return opened_recall.remember(incidents) if opened_recall else 0

    def record_resolution(self, fingerprint: str, note: str) -> bool:
        """Keep how a remembered incident was fixed (False: memory off, or not remembered)."""
        from aiops_copilot.memory.incidents import record_resolution

        opened_recall = self._open()
        if opened_recall is None or self._memory is None:
            return False
        try:
            return record_resolution(self._memory, fingerprint, note)
        except Exception as exc:  # memory is an aid: the store already has the note
            logger.warning("memory: resolution of {} not kept: {}", fingerprint, exc)
            return False

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()


class SharedRecall:
    """A :class:`Recall` that several threads may use: each call holds one lock.

    Why: ``aiops serve`` analyses the live stream on its worker thread and uploads on its
    analysis pool, and Qdrant's local mode admits one client per folder, so both must share
    one memory. The look-ups take milliseconds; serialising them costs nothing noticeable
    and keeps the lazily opened client and its cache consistent."""

    def __init__(self, inner: Recall) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        with self._lock:
            return self._inner.similar_incidents(incident, k, diagnosis)

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        with self._lock:
            return self._inner.runbook_passages(incident, k, diagnosis)

    def remember(self, incidents: Sequence[Incident]) -> int:
        with self._lock:
            return self._inner.remember(incidents)

    def record_resolution(self, fingerprint: str, note: str) -> bool:
        """What :meth:`LazyRecall.record_resolution` does, when the shared memory can."""
        record = getattr(self._inner, "record_resolution", None)
        if record is None:
            return False
        with self._lock:
            return bool(record(fingerprint, note))

    def close(self) -> None:
        with self._lock:
            self._inner.close()


class Recall(Protocol):
    """What a command gets from :func:`recall`: the fixers' look-ups, ``remember`` and
    ``close``, whether memory lives in this process or in a worker.

    The look-ups repeat :class:`aiops_copilot.agents.base.MemoryLookup` rather than inherit
    it: importing ``agents.base`` loads the knowledge base's schema (about 0.16 s), and the
    memory worker imports this module on its way to its first answer."""

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]: ...

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]: ...

    def remember(self, incidents: Sequence[Incident]) -> int: ...

    def close(self) -> None: ...


@contextmanager
def recall(settings: Any, *, background: bool = False) -> Iterator[Recall | None]:
    """What ``analyze`` hands the fixers, and remembers the run's incidents with; memory is
    opened only when an incident needs it. ``background`` prepares it in a forked worker
    while the caller parses (see :mod:`aiops_copilot.memory.worker`), where the platform
    allows; a one-shot command asks for it, a long-lived one has no start-up to hide."""
    if not settings.memory.enabled:
        yield None
        return
    opened_recall: Recall
    if background and getattr(settings.memory, "background", True):
        from aiops_copilot.memory.worker import BackgroundRecall, can_fork

        opened_recall = BackgroundRecall(settings) if can_fork() else LazyRecall(settings)
    else:
        opened_recall = LazyRecall(settings)
    try:
        yield opened_recall
    finally:
        opened_recall.close()
