"""Routine lines that must not raise incidents: health checks, favicon 404s, DEBUG chatter.

The patterns are data (``knowledge/noise.yaml``) so a team can add its own probes without code.
A template is noise when its example matches a rule and not the rule's ``unless``; it is tested
once per template, never per line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.knowledge.loader import error_line
from aiops_copilot.knowledge.schema import compiling_regex
from aiops_copilot.models import Level
from aiops_copilot.yamlio import load_yaml

NOISE_FILE = Path(__file__).parent.parent / "knowledge" / "noise.yaml"


class NoiseRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    reason: str
    regex: str
    unless: str | None = None

    @field_validator("regex", "unless")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return compiling_regex(value)


@dataclass(frozen=True)
class CompiledRule:
    rule: NoiseRule
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None

    def matches(self, text: str) -> bool:
        if self.pattern.search(text) is None:
            return False
        return self.unless is None or self.unless.search(text) is None


def load_rules(paths: Sequence[Path] = ()) -> list[CompiledRule]:
    """The shipped rules plus any extra files; a broken file is a one-line ``ValueError``."""
    rules: list[CompiledRule] = []
    for path in (NOISE_FILE, *paths):
        try:
            raw = load_yaml(path.read_text(encoding="utf-8")) or []
            parsed = [NoiseRule.model_validate(item) for item in raw]
        except (OSError, yaml.YAMLError, ValidationError, TypeError) as exc:
            raise ValueError(f"noise rules {path}: {error_line(exc)}") from None
        rules += [
            CompiledRule(r, re.compile(r.regex), re.compile(r.unless) if r.unless else None)
            for r in parsed
        ]
    return rules


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[CompiledRule, ...]:
    return tuple(load_rules())


def noise_reason(stats: TemplateStats, rules: Sequence[CompiledRule]) -> str | None:
    """Why this template is routine, or None when it may matter."""
    if stats.levels and all(Level.UNKNOWN < lvl <= Level.DEBUG for lvl in stats.levels):
        return "DEBUG/TRACE level only"
    text = stats.example
    for compiled in rules:
        if compiled.matches(text):
            return compiled.rule.reason
    return None
