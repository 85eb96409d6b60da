"""Which builder makes the body for which kind of target: one table, one place to add a kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from aiops_copilot.notify import alertmanager, slack, webhook
from aiops_copilot.notify.events import Event

IncidentBuilder = Callable[[Event, timedelta], Any]
SummaryBuilder = Callable[[Sequence[Event], int, timedelta], Any]

BUILDERS: dict[str, tuple[IncidentBuilder, SummaryBuilder]] = {
    "slack": (slack.incident_payload, slack.summary_payload),
    "webhook": (webhook.incident_payload, webhook.summary_payload),
    "alertmanager": (alertmanager.incident_payload, alertmanager.summary_payload),
}


def incident_body(kind: str, event: Event, hold: timedelta) -> Any:
    return BUILDERS[kind][0](event, hold)


def summary_body(kind: str, events: Sequence[Event], more: int, hold: timedelta) -> Any:
    return BUILDERS[kind][1](events, more, hold)
