"""The incident store: every analysis remembered, in SQLite by default or PostgreSQL by URL.

``Store`` is the one interface; ``store.cli`` holds the ``aiops incidents`` and ``aiops db``
commands and the hook ``analyze`` calls. Tables: ``schema.py``; migrations: ``migrations/``.

Names are resolved on first use (PEP 562): importing a submodule such as ``store.location``
must not pull in SQLAlchemy's ORM, which costs a noticeable part of the CLI's start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiops_copilot.store.location import StoreError, default_path, to_url
    from aiops_copilot.store.sql import (
        IncidentDetail,
        IncidentSummary,
        PruneResult,
        Store,
        StoredRun,
        StoreStats,
        UnknownIncident,
    )

_HOMES = {
    "StoreError": "location",
    "default_path": "location",
    "to_url": "location",
    "IncidentDetail": "sql",
    "IncidentSummary": "sql",
    "PruneResult": "sql",
    "Store": "sql",
    "StoredRun": "sql",
    "StoreStats": "sql",
    "UnknownIncident": "sql",
}

__all__ = [
    "IncidentDetail",
    "IncidentSummary",
    "PruneResult",
    "Store",
    "StoreError",
    "StoreStats",
    "StoredRun",
    "UnknownIncident",
    "default_path",
    "to_url",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
