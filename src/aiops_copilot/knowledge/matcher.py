"""Matching knowledge-base signatures against mined templates, once per template.

Trying every signature on every line costs (lines x signatures) regex searches; a template
stands for all its lines, so matching each template's example once costs (templates x
signatures), thousands of times fewer on real logs. Entries are tried most severe first and
keyword pre-filters skip most regexes.

Even the pre-filter, tried entry by entry, costs (texts x entries) substring tests in Python
loops; :class:`EntryIndex` turns it around. Each distinct required literal is filed under one
of its three-character slices (the one fewest other literals share); a text's own slices pick
the few literals worth a substring test, and only the entries one of whose literals is there
(plus the few that have none) are tried, still in order, so the answer is the same entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiops_copilot.knowledge.loader import SEVERITY_ORDER, KnowledgeBase
from aiops_copilot.knowledge.needles import fold
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.parsing.miner import Cluster


@dataclass(frozen=True)
class SignatureHit:
    """A known signature seen in the logs: which entry, which templates, how many lines."""

    entry: Entry
    template_ids: tuple[str, ...]
    count: int


class EntryIndex:
    """Entries in a fixed order, indexed by their required literals (see the module doc),
    which are looked for in the text's :func:`~aiops_copilot.knowledge.needles.fold` (its
    lower-cased form, also right beyond ASCII)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        #: Positions of the entries without literals: tried on every text.
        self._always: list[int] = []
        #: Each distinct literal and the positions of the entries it may let through.
        self._by_literal: dict[str, list[int]] = {}
        for position, entry in enumerate(self.entries):
            literals = entry.match.literals
            if not literals:
                self._always.append(position)
            for literal in dict.fromkeys(literals):
                self._by_literal.setdefault(literal, []).append(position)
        #: Literals by their key slice (see the module doc); shorter ones are tested always.
        self._by_gram: dict[str, list[str]] = {}
        self._short: list[str] = []
        slices = {literal: _slices(literal) for literal in self._by_literal}
        shared = Counter(g for grams in slices.values() for g in set(grams))
        for literal, grams in slices.items():
            if grams:  # the first of the least shared slices
                self._by_gram.setdefault(min(grams, key=shared.__getitem__), []).append(literal)
            else:
                self._short.append(literal)
        self._keys = frozenset(self._by_gram)
        self._positions: dict[int, int] = {}
        for position, entry in enumerate(self.entries):
            self._positions.setdefault(id(entry), position)

    def first(self, text: str, limit: int | None = None) -> Entry | None:
        """The first entry (among the first ``limit``) that recognises ``text``."""
        entries = self.entries
        end = len(entries) if limit is None else min(limit, len(entries))
        lowered = text.lower()
        folded = lowered if text.isascii() else fold(text)
        by_literal, by_gram = self._by_literal, self._by_gram
        candidates = set(self._always)
        present = [literal for literal in self._short if literal in folded]
        present += [
            literal
            for gram in _grams(folded) & self._keys
            for literal in by_gram[gram]
            if literal in folded
        ]
        for literal in present:
            candidates.update(by_literal[literal])
        for position in sorted(candidates):
            if position >= end:
                break
            entry = entries[position]
            if entry.matches(text, lowered):
                return entry
        return None

    def position(self, entry: Entry) -> int:
        """Where ``entry`` first stands in the order (it must be one of the entries)."""
        return self._positions[id(entry)]


def _grams(text: str) -> set[str]:
    """The text's distinct three-character slices."""
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _slices(text: str) -> list[str]:
    """The text's three-character slices, in order."""
    return [text[i : i + 3] for i in range(len(text) - 2)]


#: Indexes of recent entry sequences, by the identity of their entries (which the index keeps
#: alive, so an identity cannot be reused while it is here).
_INDEXES: dict[tuple[int, ...], EntryIndex] = {}
_MAX_INDEXES = 8


def index_of(entries: Sequence[Entry] | EntryIndex) -> EntryIndex:
    """The index of these entries in this order, built once and reused while it is recent."""
    if isinstance(entries, EntryIndex):
        return entries
    key = tuple(map(id, entries))
    index = _INDEXES.get(key)
    if index is None:
        index = EntryIndex(entries)
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[key] = index
    return index


def first_match(entries: Sequence[Entry] | EntryIndex, text: str) -> Entry | None:
    """The first entry, in the given order, that recognises ``text``."""
    return index_of(entries).first(text)


def match_templates(kb: KnowledgeBase, clusters: Iterable[Cluster]) -> list[SignatureHit]:
    """Known signatures among the clusters, most severe and most frequent first.

    A cluster is tested through its example line (a real message, not the masked template, so
    regexes written against real log text apply) and its first matching entry wins.
    """
    found: dict[str, tuple[Entry, list[str], int]] = {}
    index = index_of(kb.matching_order())
    for cluster in clusters:
        entry = index.first(cluster.example or cluster.template)
        if entry is not None:
            _, ids, count = found.get(entry.id, (entry, [], 0))
            found[entry.id] = (entry, [*ids, cluster.template_id], count + cluster.count)
    hits = [SignatureHit(e, tuple(ids), count) for e, ids, count in found.values()]
    return sorted(hits, key=lambda h: (SEVERITY_ORDER[h.entry.severity], -h.count, h.entry.id))
