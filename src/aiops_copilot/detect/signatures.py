"""The signature signal: a template matches a known error from the knowledge base.

Matching runs once per template (its example line), so the cost does not grow with the number
of lines. The signal carries the entry's severity; the score says how much a known signature
counts compared with the weaker, statistical signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.matcher import EntryIndex, index_of
from aiops_copilot.knowledge.matcher import first_match as first_match  # callers import it here
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


def best_entry(entries: Sequence[Entry] | EntryIndex, texts: Sequence[str]) -> Entry | None:
    """The most severe entry matching any of the texts (entries come most severe first): after a
    match, the later texts need only try the entries before it."""
    index = index_of(entries)
    best: Entry | None = None
    limit: int | None = None
    for text in texts:
        if limit == 0:
            break
        entry = index.first(text, limit)
        if entry is not None:
            best = entry
            limit = index.position(entry)
    return best


def signature_signals(kb: KnowledgeBase, stats: Sequence[TemplateStats]) -> list[Signal]:
    """One signal per template whose example, details or raw lines match an entry."""
    index = index_of(kb.matching_order())
    signals: list[Signal] = []
    for item in stats:
        entry = best_entry(index, texts_of(item))
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
