"""What a notifier sends: an incident, the change that made it worth telling, and when.

Changes: ``new`` (first seen), ``reopened`` (seen again after someone resolved it),
``updated`` (seen again while open; sent only to targets that ask for it), ``resolved``
(someone said it is fixed) and ``test`` (``aiops notify test``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiops_copilot.models import Incident

CHANGES = ("new", "reopened", "updated", "resolved", "test")

#: How each change reads at the start of a message.
CHANGE_WORDS = {
    "new": "New incident",
    "reopened": "Reopened incident",
    "updated": "Incident still occurring",
    "resolved": "Resolved",
    "test": "Test notification",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    incident: Incident
    change: str
    at: datetime = field(default_factory=utc_now)
