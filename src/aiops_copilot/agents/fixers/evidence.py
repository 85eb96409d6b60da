"""A searchable view of an incident's evidence, shared by the six fixers' extractors.

An incident carries two kinds of text: its templates (one example message each, with how many
lines the template stands for) and a sample of raw evidence lines (file and line numbers, up
to ~30). Counting must use the templates (the lines are a sample), while values that the miner
masked (user names, ports) can only be read from the lines and examples. :class:`Evidence`
hides that difference behind a few questions — *is it there, how often, which values, which
lines* — so each extractor is a short list of regexes.

Most of those regexes find nothing in most incidents, and each question asked of each
document costs a regex search; a document that holds none of a pattern's needles
(:mod:`aiops_copilot.knowledge.needles`) is not searched, nor is the regex compiled when no
document holds one: the same answers, fewer searches.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from aiops_copilot.knowledge.hypothesis_book import compile_pattern
from aiops_copilot.knowledge.needles import absent, fold, needles
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Incident, LineRef

Pattern = str | re.Pattern[str]
T = TypeVar("T")
#: Longest text searched per document: a folded stack trace is long, a 64 KiB line is noise.
MAX_DOC_CHARS = 8000


def _regex(pattern: Pattern) -> re.Pattern[str]:
    return pattern if isinstance(pattern, re.Pattern) else compile_pattern(pattern)


@dataclass(frozen=True, slots=True)
class Doc:
    """One searchable text: a template example (weight = its count) or an evidence line."""

    text: str
    weight: int
    ref: LineRef | None
    template: bool
    #: ``text`` through :func:`~aiops_copilot.knowledge.needles.fold` (None: unknown).
    folded: str | None = None


class Evidence:
    """What an extractor may ask of an incident; every method tolerates odd input."""

    def __init__(self, incident: Incident, entries: Iterable[Entry] = ()) -> None:
        self.incident = incident
        self.entries = [e for e in entries if e is not None]
        self.tags: set[str] = {t.lower() for e in self.entries for t in e.tags}
        self.software: set[str] = {e.software for e in self.entries}
        self.lines = [
            _doc(str(ref.text)[:MAX_DOC_CHARS], 1, ref, False)
            for ref in incident.lines
            if isinstance(ref, LineRef)
        ]
        self.templates = [
            _doc(
                str(t.example or t.template or "")[:MAX_DOC_CHARS],
                max(1, int(t.count or 1)),
                self._ref_for(str(t.example or "")),
                True,
            )
            for t in incident.templates
        ]
        self.docs = [*self.lines, *self.templates]
        self.text = "\n".join(d.text for d in self.docs)
        #: ``text`` through :func:`~aiops_copilot.knowledge.needles.fold`, for the needle test.
        self.folded = fold(self.text)

    def _ref_for(self, example: str) -> LineRef | None:
        probe = example.strip().splitlines()[0][:60] if example.strip() else ""
        if not probe:
            return None
        for doc in self.lines:
            if probe in doc.text:
                return doc.ref
        return None

    # -- questions ---------------------------------------------------------------------------

    def has(self, pattern: Pattern) -> bool:
        if absent(needles(pattern), self.folded):
            return False
        return _regex(pattern).search(self.text) is not None

    def count(self, pattern: Pattern) -> int:
        """How many log lines say it: template counts when a template says it, else lines."""
        found = needles(pattern)
        if absent(found, self.folded):
            return 0
        regex = _regex(pattern)
        total = sum(
            d.weight for d in self.templates if not absent(found, d.folded) and regex.search(d.text)
        )
        if total:
            return total
        return sum(1 for d in self.lines if not absent(found, d.folded) and regex.search(d.text))

    def matches(self, pattern: Pattern) -> Iterator[tuple[re.Match[str], Doc]]:
        """Every match, evidence lines first (they are raw and complete), then templates."""
        found = needles(pattern)
        if absent(found, self.folded):
            return
        regex = _regex(pattern)
        for doc in self.docs:
            if absent(found, doc.folded):
                continue
            for match in regex.finditer(doc.text):
                yield match, doc

    def first(self, pattern: Pattern, group: int | str = 1) -> str | None:
        for match, _ in self.matches(pattern):
            value = _group(match, group)
            if value:
                return value
        return None

    def values(self, pattern: Pattern, group: int | str = 1) -> Counter[str]:
        """Values seen, weighted: a template example counts for its template's lines."""
        found: Counter[str] = Counter()
        for match, doc in self.matches(pattern):
            value = _group(match, group)
            if value:
                found[value] += doc.weight if doc.template else 1
        return found

    def tally(self, pattern: Pattern, group: int | str = 1) -> Counter[str]:
        """Values counted per log line: from the templates (weighted), else from the lines.

        Use it for "how many 502s": a template's example stands for all its lines, and the
        evidence lines are only a sample of them, so the two must not be added up.
        """
        found: Counter[str] = Counter()
        needed = needles(pattern)
        if absent(needed, self.folded):
            return found
        regex = _regex(pattern)
        for doc in self.templates:
            if absent(needed, doc.folded):
                continue
            for match in regex.finditer(doc.text):
                value = _group(match, group)
                if value:
                    found[value] += doc.weight
        if found:
            return found
        for doc in self.lines:
            if absent(needed, doc.folded):
                continue
            for match in regex.finditer(doc.text):
                value = _group(match, group)
                if value:
                    found[value] += 1
        return found

    def distinct(self, pattern: Pattern, group: int | str = 1) -> list[str]:
        """Distinct values in order of first appearance."""
        seen: dict[str, None] = {}
        for match, _ in self.matches(pattern):
            value = _group(match, group)
            if value:
                seen.setdefault(value, None)
        return list(seen)

    def numbers(self, pattern: Pattern, group: int | str = 1) -> list[float]:
        out: list[float] = []
        for match, _ in self.matches(pattern):
            value = _group(match, group)
            if value:
                try:
                    out.append(float(value.replace(",", "")))
                except ValueError:
                    continue
        return out

    def refs(self, pattern: Pattern) -> list[LineRef]:
        """Evidence lines that say it (template examples stand in via their first line)."""
        out: list[LineRef] = []
        found = needles(pattern)
        if absent(found, self.folded):
            return out
        regex = _regex(pattern)
        for doc in self.docs:
            if (
                doc.ref is not None
                and doc.ref not in out
                and not absent(found, doc.folded)
                and regex.search(doc.text)
            ):
                out.append(doc.ref)
        return out

    def entity_counts(self, kind: str) -> Counter[str]:
        """The pipeline's entity counts of one kind (``ip``, ``user``), prefix stripped."""
        out: Counter[str] = Counter()
        for key, value in (self.incident.entities or {}).items():
            if isinstance(key, str) and key.startswith(kind + ":"):
                try:
                    out[key[len(kind) + 1 :]] += int(value)
                except (TypeError, ValueError):
                    continue
        return out

    def minutes(self) -> float | None:
        """The incident's span in minutes (at least one second), when both ends are known."""
        first, last = self.incident.first_seen, self.incident.last_seen
        if first is None or last is None:
            return None
        try:
            seconds = (last - first).total_seconds()
        except (TypeError, ValueError):
            return None
        return max(seconds, 1.0) / 60.0


def _doc(text: str, weight: int, ref: LineRef | None, template: bool) -> Doc:
    return Doc(text, weight, ref, template, fold(text))


def _group(match: re.Match[str], group: int | str) -> str | None:
    try:
        value = match.group(group)
    except IndexError:
        return None
    if value is None:
        return None
    return str(value).strip()


def top(counter: Counter[str], n: int = 5) -> list[str]:
    return [value for value, _ in counter.most_common(n)]


def first_of(*values: T | None) -> T | None:
    """The first value that is set (not None, not empty)."""
    for value in values:
        if value is not None and value != "" and value != [] and value != {}:
            return value
    return None
