"""Feedback in the store: a verdict on an incident and the rules it teaches.

A verdict is kept as a ``feedback`` row (who said what about which incident, with the note);
what should change next time is kept as ``rules`` keyed by fingerprint (or by signature for a
"wrong" verdict), so it survives pruning and can be exported to another installation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiops_copilot.learning import MIN_WEIGHT, RULE_KINDS, WRONG_FACTOR, RuleRecord
from aiops_copilot.store.schema import Feedback, IncidentRow, Occurrence, Rule


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """What a verdict stored: the feedback rows and the rules it created."""

    incident_id: str
    feedback_ids: tuple[int, ...]
    rules: tuple[RuleRecord, ...]


def give(
    session: Session,
    row: IncidentRow,
    *,
    verdict: str | None,
    domain: str | None,
    merge_into: IncidentRow | None,
    split: bool,
    note: str | None,
    now: datetime,
) -> FeedbackOutcome:
    """Record the verdict and the rules it implies (see :mod:`aiops_copilot.learning`)."""
    feedback_ids: list[int] = []
    rules: list[RuleRecord] = []

    def feedback(kind: str, **extra: str | None) -> Feedback:
        item = Feedback(incident_id=row.id, kind=kind, note=note, created_at=now, **extra)
        session.add(item)
        session.flush()
        feedback_ids.append(item.id)
        return item

    def rule(item: Feedback, key: str, kind: str, value: str, weight: float = 1.0) -> None:
        session.add(
            Rule(
                fingerprint=key,
                kind=kind,
                value=value,
                weight=weight,
                created_at=now,
                feedback_id=item.id,
            )
        )
        rules.append(RuleRecord(key, kind, value, weight, now, note))

    if domain is not None:
        item = feedback("domain", domain=domain)
        rule(item, row.fingerprint, "domain", domain)
        row.domain = domain
    if merge_into is not None:
        item = feedback("merge", merge_into=merge_into.id)
        rule(item, row.fingerprint, "merge", merge_into.fingerprint)
    if split:
        item = feedback("split")
        rule(item, row.fingerprint, "split", "")
    if verdict == "wrong" and not feedback_ids:
        # Wrong, and not because of the routing or the grouping: the signatures that raised
        # it count less from now on.
        item = feedback("wrong")
        for entry_id in _signatures(session, row):
            current = _current_weight(session, entry_id)
            weight = max(MIN_WEIGHT, current * WRONG_FACTOR)
            rule(item, f"sig:{entry_id}", "signature_weight", entry_id, weight)
    elif verdict == "correct":
        feedback("correct")
    return FeedbackOutcome(row.id, tuple(feedback_ids), tuple(rules))


def all_rules(session: Session) -> list[RuleRecord]:
    """Every stored rule, oldest first (later ones override earlier ones)."""
    rows = session.execute(
        select(Rule, Feedback.note)
        .outerjoin(Feedback, Feedback.id == Rule.feedback_id)
        .order_by(Rule.created_at, Rule.id)
    ).all()
    return [
        RuleRecord(r.fingerprint, r.kind, r.value, r.weight, r.created_at, note) for r, note in rows
    ]


def add_rules(session: Session, records: Iterable[RuleRecord], now: datetime) -> int:
    """Import rules; ones already present (same key, kind, value, weight) are skipped."""
    present = {
        (r.fingerprint, r.kind, r.value, round(r.weight, 6)) for r in session.scalars(select(Rule))
    }
    added = 0
    for record in records:
        if record.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind {record.kind!r}")
        key = (record.fingerprint, record.kind, record.value, round(record.weight, 6))
        if key in present:
            continue
        present.add(key)
        session.add(
            Rule(
                fingerprint=record.fingerprint,
                kind=record.kind,
                value=record.value,
                weight=record.weight,
                created_at=record.created_at or now,
                feedback_id=None,
            )
        )
        added += 1
    return added


def _signatures(session: Session, row: IncidentRow) -> Sequence[str]:
    """The knowledge-base entries behind the incident's latest occurrence."""
    latest = session.scalars(
        select(Occurrence)
        .where(Occurrence.incident_id == row.id)
        .order_by(Occurrence.seen_at.desc(), Occurrence.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return ()
    found = [s.get("entry_id") for s in latest.signals or [] if isinstance(s, dict)]
    return list(dict.fromkeys(e for e in found if isinstance(e, str) and e))


def _current_weight(session: Session, entry_id: str) -> float:
    latest = session.scalars(
        select(Rule)
        .where(Rule.kind == "signature_weight", Rule.value == entry_id)
        .order_by(Rule.created_at.desc(), Rule.id.desc())
        .limit(1)
    ).first()
    return float(latest.weight) if latest is not None else 1.0
