"""Context for incidents: the ordinary lines that change what an error means.

A login that succeeded from the address that was brute-forcing, a deploy or a schema change a
minute before the errors began: neither is an error, so no detector flags it, but a fixer that
cannot see it writes the wrong diagnosis. The rules are data (``knowledge/context.yaml``); each
attached template says in ``grouped_because`` why it was attached. Work is per template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.incidents import shorten
from aiops_copilot.knowledge.loader import error_line
from aiops_copilot.models import Incident, TemplateRef
from aiops_copilot.yamlio import load_yaml

CONTEXT_FILE = Path(__file__).parent / "knowledge" / "context.yaml"
#: Context templates attached per incident, and lines kept from each.
MAX_TEMPLATES = 4
MAX_LINES_EACH = 3


class ContextRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    reason: str
    regex: str
    link: Literal["entity", "before"]


@dataclass(frozen=True)
class _Compiled:
    rule: ContextRule
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[_Compiled, ...]:
    try:
        raw = load_yaml(CONTEXT_FILE.read_text(encoding="utf-8")) or []
        rules = [ContextRule.model_validate(item) for item in raw]
        return tuple(_Compiled(r, re.compile(r.regex)) for r in rules)
    except (OSError, yaml.YAMLError, ValidationError, re.error) as exc:
        raise ValueError(f"context rules {CONTEXT_FILE}: {error_line(exc)}") from None


def attach_context(
    incidents: Sequence[Incident],
    templates: Sequence[TemplateStats],
    *,
    window: timedelta,
    rules: Sequence[_Compiled] | None = None,
) -> None:
    """Add matching context templates and a few of their lines to each incident, in place."""
    rules = shipped_rules() if rules is None else rules
    in_incidents = {tid for incident in incidents for tid in incident.template_ids}
    candidates: list[tuple[_Compiled, TemplateStats]] = []
    for stats in templates:
        if stats.template_id in in_incidents:
            continue
        rule = next((r for r in rules if r.pattern.search(stats.example)), None)
        if rule is not None:
            candidates.append((rule, stats))
    if not candidates:
        return
    for incident in incidents:
        attached = 0
        names = {key for key in incident.entities if key.startswith(("ip:", "user:"))}
        for rule, stats in candidates:
            if attached >= MAX_TEMPLATES:
                break
            why = _linked(rule.rule, stats, incident, names, window)
            if why is None:
                continue
            attached += 1
            incident.templates.append(
                TemplateRef(stats.template_id, stats.template, stats.count, stats.example)
            )
            incident.lines.extend(stats.lines[:MAX_LINES_EACH])
            incident.grouped_because.append(f"context ({rule.rule.reason}): {why}")


def _linked(
    rule: ContextRule,
    stats: TemplateStats,
    incident: Incident,
    names: set[str],
    window: timedelta,
) -> str | None:
    first, last = incident.first_seen, incident.last_seen
    if rule.link == "entity":
        shared = sorted(names & set(stats.entities))
        if not shared:
            return None
        if (
            first
            and last
            and stats.first_seen
            and stats.last_seen
            and (stats.last_seen < first or stats.first_seen > last + window)
        ):
            return None
        names_text = ", ".join(key.split(":", 1)[1] for key in shared[:3])
        return f"{shorten(stats.example)!r} names {names_text}, as this incident's lines do"
    if first is None or stats.last_seen is None or stats.first_seen is None:
        return None
    same_place = bool(set(incident.sources) & set(stats.sources)) or bool(
        set(incident.services) & set(stats.services)
    )
    if not same_place or not (first - window <= stats.last_seen <= first):
        return None
    gap = int((first - stats.last_seen).total_seconds())
    return f"{shorten(stats.example)!r} {gap} s before the first error, in the same place"
