"""The incident store: every analysis remembered, in SQLite by default or PostgreSQL by URL.

``Store`` is the one interface; ``store.cli`` holds the ``aiops incidents`` and ``aiops db``
commands and the hook ``analyze`` calls. Tables: ``schema.py``; migrations: ``migrations/``.
"""

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
