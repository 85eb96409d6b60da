"""Reading an incident together with the incidents that explain it.

Grouping does not always put a symptom and its cause in one incident (Redis refusing writes with
MISCONF in the client's log, the "Permission denied" on its snapshot file in the server's). A
fixer reads the incident's explicit cause when it has one, and otherwise may look at incidents
raised at the same time — only keeping that wider view when it explains more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aiops_copilot.agents.base import FixerContext
from aiops_copilot.models import Incident

#: How far apart (seconds) two incidents may be and still explain each other.
NEIGHBOUR_WINDOW = 300.0
MAX_NEIGHBOURS = 4


def neighbours(incident: Incident, context: FixerContext, exclude: set[str]) -> list[Incident]:
    """Other incidents of the run close in time (or, without times, from the same files)."""
    found: list[tuple[float, Incident]] = []
    for other in (context.incidents or {}).values():
        if other is incident or other.id == incident.id or other.id in exclude:
            continue
        gap = _gap(incident, other)
        if gap is None:
            if set(other.sources) & set(incident.sources):
                found.append((NEIGHBOUR_WINDOW, other))
        elif gap <= NEIGHBOUR_WINDOW:
            found.append((gap, other))
    found.sort(key=lambda item: (item[0], item[1].id))
    return [other for _, other in found[:MAX_NEIGHBOURS]]


def _gap(a: Incident, b: Incident) -> float | None:
    """Seconds between two incidents' time spans (0 when they overlap), None if unknown."""
    if not (a.first_seen and a.last_seen and b.first_seen and b.last_seen):
        return None
    try:
        if a.last_seen < b.first_seen:
            return (b.first_seen - a.last_seen).total_seconds()
        if b.last_seen < a.first_seen:
            return (a.first_seen - b.last_seen).total_seconds()
    except TypeError:  # naive and aware datetimes from different sources
        return None
    return 0.0


def merge_incidents(incident: Incident, others: Sequence[Incident]) -> Incident:
    """One view of an incident's evidence together with that of related incidents."""
    entities = dict(incident.entities)
    for other in others:
        for key, value in other.entities.items():
            entities[key] = entities.get(key, 0) + value
    return replace(
        incident,
        templates=[*incident.templates, *(t for o in others for t in o.templates)],
        lines=[*incident.lines, *(ref for o in others for ref in o.lines)],
        entities=entities,
        entry_ids=list(
            dict.fromkeys([*incident.entry_ids, *(i for o in others for i in o.entry_ids)])
        ),
        services=list(
            dict.fromkeys([*incident.services, *(s for o in others for s in o.services)])
        ),
        formats=list(dict.fromkeys([*incident.formats, *(f for o in others for f in o.formats)])),
        sources=list(dict.fromkeys([*incident.sources, *(f for o in others for f in o.sources)])),
    )
