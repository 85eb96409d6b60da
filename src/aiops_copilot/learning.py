"""What the copilot learned from people's feedback, as plain data the pipeline applies.

``aiops feedback`` turns a verdict into a rule keyed by the incident's fingerprint (or, for a
signature judged wrong, by the signature): the next analysis that produces the same kind of
incident follows it. Every place a rule changes the outcome says so in the incident's reasons,
so a person can see that a learned rule — not the shipped knowledge — decided.

Kinds of rule (``kind``, what ``value`` holds):

- ``domain``: the fingerprint's incidents go to that domain's fixer;
- ``merge``: the fingerprint's incidents join the incident whose fingerprint is ``value``;
- ``split``: the fingerprint's incident is never merged with others again;
- ``signature_weight``: the signature ``value`` counts ``weight`` times as much (each "wrong"
  verdict halves it), keyed ``sig:<entry id>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aiops_copilot.models import Domain

RULE_KINDS = ("domain", "merge", "split", "signature_weight")
#: Each "wrong" verdict multiplies a signature's weight by this.
WRONG_FACTOR = 0.5
#: A signature is never weighted below this (a rule can mute, never erase, knowledge).
MIN_WEIGHT = 0.05


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """One learned rule as stored and exported."""

    fingerprint: str
    kind: str
    value: str
    weight: float = 1.0
    created_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Learned:
    value: str
    weight: float
    why: str


@dataclass
class LearnedRules:
    """The rules in force: the newest rule of each (key, kind) wins."""

    domains: dict[str, Learned] = field(default_factory=dict)
    merges: dict[str, Learned] = field(default_factory=dict)
    splits: dict[str, Learned] = field(default_factory=dict)
    signature_weights: dict[str, Learned] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.domains or self.merges or self.splits or self.signature_weights)

    @classmethod
    def from_records(cls, records: Iterable[RuleRecord]) -> LearnedRules:
        rules = cls()
        ordered = sorted(records, key=lambda r: (r.created_at or datetime.min, r.kind))
        for record in ordered:
            when = f" on {record.created_at:%Y-%m-%d}" if record.created_at else ""
            note = f" ({record.note})" if record.note else ""
            if record.kind == "domain" and record.value in Domain.__members__.values():
                why = f"learned rule: routed to {record.value} by feedback{when}{note}"
                rules.domains[record.fingerprint] = Learned(record.value, 1.0, why)
            elif record.kind == "merge":
                why = f"learned rule: merged by feedback{when}{note}"
                rules.merges[record.fingerprint] = Learned(record.value, 1.0, why)
            elif record.kind == "split":
                why = f"learned rule: kept apart by feedback{when}{note}"
                rules.splits[record.fingerprint] = Learned(record.value, 1.0, why)
            elif record.kind == "signature_weight":
                weight = max(MIN_WEIGHT, min(1.0, record.weight))
                why = (
                    f"learned rule: signature {record.value} weighted {weight:g} after "
                    f"'wrong' verdicts{when}{note}"
                )
                rules.signature_weights[record.value] = Learned(record.value, weight, why)
        return rules

    def domain_for(self, fingerprint: str) -> Learned | None:
        return self.domains.get(fingerprint)

    def weight_of(self, entry_id: str) -> Learned | None:
        return self.signature_weights.get(entry_id)


NO_RULES = LearnedRules()
