"""The signature signal: a template matches a known error from the knowledge base.

Matching runs once per template (its example line), so the cost does not grow with the number
of lines. The signal carries the entry's severity; the score says how much a known signature
counts compared with the weaker, statistical signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Severity, Signal, SignalKind

_SCORE = {
    Severity.CRITICAL: 0.95,
    Severity.HIGH: 0.9,
    Severity.MEDIUM: 0.75,
    Severity.LOW: 0.3,  # an advisory: an incident only with another signal
    Severity.INFO: 0.1,
}


def first_match(entries: Sequence[Entry], text: str) -> Entry | None:
    for entry in entries:
        if entry.matches(text):
            return entry
    return None


def signature_signals(kb: KnowledgeBase, stats: Sequence[TemplateStats]) -> list[Signal]:
    """One signal per template whose example (or template text) matches an entry."""
    entries = kb.matching_order()
    signals: list[Signal] = []
    for item in stats:
        entry = first_match(entries, item.example)
        if entry is None and item.template != item.example:
            entry = first_match(entries, item.template)
        if entry is None:
            continue
        signals.append(
            Signal(
                SignalKind.SIGNATURE,
                template_id=item.template_id,
                score=_SCORE[entry.severity],
                reason=f"known signature {entry.id} ({entry.software}): {entry.title}",
                severity=entry.severity,
                entry_id=entry.id,
                count=item.count,
                first_seen=item.first_seen,
                last_seen=item.last_seen,
            )
        )
    return signals
