"""Memory for a command: from the effective settings to an open :class:`MemoryRecall`.

Kept apart from the CLI so that every command (``analyze``, ``kb add``/``search``, and later
``watch`` and the API) opens memory the same way and closes it when done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiops_copilot.memory.location import MemoryTarget, open_memory, resolve_target
from aiops_copilot.memory.recall import MemoryRecall
from aiops_copilot.memory.vectors import VectorMemory


def target_of(settings: Any) -> MemoryTarget:
    """Where memory lives for these settings (``memory.*``, beside ``store.url``)."""
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
    memory = open_memory(target_of(settings), timeout=settings.memory.timeout, required=required)
    try:
        yield memory
    finally:
        if memory is not None:
            memory.close()


@contextmanager
def recall(settings: Any) -> Iterator[MemoryRecall | None]:
    """What ``analyze`` hands the fixers, and remembers the run's incidents with."""
    with opened(settings) as memory:
        yield MemoryRecall(memory) if memory is not None else None
