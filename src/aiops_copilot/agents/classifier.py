"""The classifier agent: scores an incident against the six domains and says why.

It scores rather than picking the first rule that fires: every piece of evidence adds weight
to a domain — the knowledge-base signatures the incident hit (strongest), keywords in its
templates and lines, the log formats and services it came from, and HTTP status classes — and
the scores are normalised to sum to 1. The reasons are kept per domain, so a wrong routing can
be understood and corrected (and, later, learned from). The weights are data
(``knowledge/classifier.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiops_copilot.knowledge.loader import KnowledgeBase, error_line
from aiops_copilot.knowledge.needles import absent, fold, needles
from aiops_copilot.learning import LearnedRules
from aiops_copilot.models import Classification, Domain, Incident, Severity
from aiops_copilot.yamlio import load_yaml

WEIGHTS_FILE = Path(__file__).parent.parent / "knowledge" / "classifier.yaml"


class KeywordRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pattern: str
    weight: float = Field(gt=0)


class AttackPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    auth_failure: str
    min_attempts: int = Field(10, ge=1)
    min_users: int = Field(3, ge=1)
    weight: float = Field(6.0, gt=0)


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keywords: dict[Domain, list[KeywordRule]]
    attack_pattern: AttackPattern | None = None
    formats: dict[str, dict[Domain, float]] = Field(default_factory=dict)
    services: dict[str, dict[Domain, float]] = Field(default_factory=dict)
    signature_weight: dict[Severity, float]


@dataclass(frozen=True)
class _Compiled:
    domain: Domain
    pattern: re.Pattern[str]
    weight: float
    source: str


@dataclass(frozen=True)
class ClassifierModel:
    weights: Weights
    keywords: tuple[_Compiled, ...]


def load_weights(path: Path = WEIGHTS_FILE) -> ClassifierModel:
    try:
        weights = Weights.model_validate(load_yaml(path.read_text(encoding="utf-8")))
        compiled = tuple(
            _Compiled(
                domain,
                re.compile(rule.pattern, re.IGNORECASE | re.MULTILINE),
                rule.weight,
                rule.pattern,
            )
            for domain, rules in weights.keywords.items()
            for rule in rules
        )
    except (OSError, yaml.YAMLError, ValidationError, re.error) as exc:
        raise ValueError(f"classifier weights {path}: {error_line(exc)}") from None
    return ClassifierModel(weights, compiled)


@lru_cache(maxsize=1)
def shipped_model() -> ClassifierModel:
    return load_weights()


#: Weight of a domain a person taught for this fingerprint (aiops feedback --domain).
LEARNED_WEIGHT = 50.0


def classify(
    incident: Incident,
    kb: KnowledgeBase,
    model: ClassifierModel | None = None,
    *,
    learned: LearnedRules | None = None,
) -> Classification:
    """Scores for all six domains (summing to 1) with the reasons behind each."""
    model = model or shipped_model()
    raw: dict[Domain, float] = {d: 0.0 for d in Domain}
    reasons: dict[Domain, list[str]] = {d: [] for d in Domain}

    def add(domain: Domain, weight: float, reason: str) -> None:
        raw[domain] += weight
        reasons[domain].append(f"{reason} (+{weight:g})")

    taught = learned.domain_for(incident.fingerprint) if learned else None
    if taught is not None:
        add(Domain(taught.value), LEARNED_WEIGHT, taught.why)

    for rank, entry_id in enumerate(incident.entry_ids):
        entry = kb.get(entry_id)
        if entry is None:
            continue
        weight = model.weights.signature_weight.get(entry.severity, 1.0) * (
            1.0 if rank == 0 else 0.5
        )
        muted = learned.weight_of(entry.id) if learned else None
        if muted is not None:
            weight *= muted.weight
        add(
            entry.domain, weight, f"signature {entry.id} ({entry.software}, {entry.severity.value})"
        )

    text = incident.text
    folded = fold(text)  # most rules are ruled out by a substring test
    for rule in model.keywords:
        if absent(needles(rule.pattern), folded):
            continue
        found = rule.pattern.search(text)
        if found:
            add(rule.domain, rule.weight, f"keyword {found.group(0).strip()[:40]!r}")

    attack = _attack(incident, model.weights.attack_pattern)
    if attack is not None:
        add(Domain.SECURITY, model.weights.attack_pattern.weight, attack)  # type: ignore[union-attr]

    for fmt in incident.formats:
        for domain, weight in model.weights.formats.get(fmt, {}).items():
            add(domain, weight, f"log format {fmt}")
    for service in _service_words(incident.services):
        for domain, weight in model.weights.services.get(service, {}).items():
            add(domain, weight, f"service {service}")

    total = sum(raw.values())
    if total <= 0:
        # Nothing specific: an application problem until shown otherwise (it is where unknown
        # errors most often come from), said plainly.
        raw[Domain.APPLICATION] = 1.0
        reasons[Domain.APPLICATION].append("no domain-specific evidence: application by default")
        total = 1.0
    scores = {d: round(raw[d] / total, 3) for d in Domain}
    return Classification(scores=scores, reasons={d: r for d, r in reasons.items()})


def _attack(incident: Incident, pattern: AttackPattern | None) -> str | None:
    """A sentence when the incident looks like credential guessing from one address."""
    if pattern is None or not re.search(pattern.auth_failure, incident.text):
        return None
    addresses = [
        (key[3:], n)
        for key, n in incident.entities.items()
        if key.startswith("ip:") and key.count(":") == 1
    ]
    users = [key for key in incident.entities if key.startswith("user:")]
    if not addresses or len(users) < pattern.min_users:
        return None
    address, attempts = max(addresses, key=lambda item: item[1])
    if attempts < pattern.min_attempts:
        return None
    return (
        f"attack pattern: {attempts:,} authentication failures from {address} "
        f"for {len(users)} user names"
    )


def _service_words(services: Sequence[str]) -> list[str]:
    words: list[str] = []
    for service in services:
        base = re.split(r"[\[/@:.\-]", service.lower(), maxsplit=1)[0]
        if base and base not in words:
            words.append(base)
    return words
