"""The signature signal: a template matches a known error from the knowledge base.

Matching runs once per template (its example line), so the cost does not grow with the number
of lines. The signal carries the entry's severity; the score says how much a known signature
counts compared with the weaker, statistical signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.matcher import first_match
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Severity, Signal, SignalKind

_SCORE = {
    Severity.CRITICAL: 0.95,
    Severity.HIGH: 0.9,
    Severity.MEDIUM: 0.75,
    Severity.LOW: 0.3,  # an advisory: an incident only with another signal
    Severity.INFO: 0.1,
}


def texts_of(item: TemplateStats) -> list[str]:
    """What a signature is tried on: the example message, its structured error details, and
    the raw lines as written (formats strip parts of a line into fields — nginx's
    ``client: 1.2.3.4`` — that a signature may name), first and latest."""
    texts = [item.example]
    if item.detail:
        texts.append(f"{item.example} {item.detail}")
    lines = item.lines
    for ref in (lines[0], lines[-1]) if lines else ():
        if ref.text not in texts:
            texts.append(ref.text)
    return texts


def best_entry(entries: Sequence[Entry], texts: Sequence[str]) -> Entry | None:
    """The most severe entry matching any of the texts (entries come most severe first): after a
    match, the later texts need only try the entries before it."""
    best: Entry | None = None
    pool = entries
    for text in texts:
        entry = first_match(pool, text)
        if entry is not None:
            best = entry
            pool = pool[: next(i for i, e in enumerate(pool) if e is entry)]
    return best


def signature_signals(kb: KnowledgeBase, stats: Sequence[TemplateStats]) -> list[Signal]:
    """One signal per template whose example, details or raw lines match an entry."""
    entries = kb.matching_order()
    signals: list[Signal] = []
    for item in stats:
        entry = best_entry(entries, texts_of(item))
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
