"""Matching knowledge-base signatures against mined templates, once per template.

Trying every signature on every line costs (lines x signatures) regex searches; a template
stands for all its lines, so matching each template's example once costs (templates x
signatures), thousands of times fewer on real logs. Entries are tried most severe first and
keyword pre-filters skip most regexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiops_copilot.knowledge.loader import SEVERITY_ORDER, KnowledgeBase
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.parsing.miner import Cluster


@dataclass(frozen=True)
class SignatureHit:
    """A known signature seen in the logs: which entry, which templates, how many lines."""

    entry: Entry
    template_ids: tuple[str, ...]
    count: int


def first_match(entries: Sequence[Entry], text: str) -> Entry | None:
    """The first entry, in the given order, that recognises ``text``."""
    lowered = text.lower()
    plain = text.isascii()
    for entry in entries:
        # The literal test inline: most entries are ruled out here, without a call.
        literals = entry.match.literals
        if plain and literals and not any(literal in lowered for literal in literals):
            continue
        if entry.matches(text, lowered):
            return entry
    return None


def match_templates(kb: KnowledgeBase, clusters: Iterable[Cluster]) -> list[SignatureHit]:
    """Known signatures among the clusters, most severe and most frequent first.

    A cluster is tested through its example line (a real message, not the masked template, so
    regexes written against real log text apply) and its first matching entry wins.
    """
    found: dict[str, tuple[Entry, list[str], int]] = {}
    entries = kb.matching_order()
    for cluster in clusters:
        entry = first_match(entries, cluster.example or cluster.template)
        if entry is not None:
            _, ids, count = found.get(entry.id, (entry, [], 0))
            found[entry.id] = (entry, [*ids, cluster.template_id], count + cluster.count)
    hits = [SignatureHit(e, tuple(ids), count) for e, ids, count in found.values()]
    return sorted(hits, key=lambda h: (SEVERITY_ORDER[h.entry.severity], -h.count, h.entry.id))
