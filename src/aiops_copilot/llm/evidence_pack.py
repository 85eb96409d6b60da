"""The evidence pack: what a model is shown about one incident, compact and cited.

Why a pack and not tool-calling: the deterministic pipeline has already found the lines that
matter, so the model gets them in one bounded bundle instead of roaming the logs -- cheaper,
reproducible, and auditable (the pack *is* the prompt). Every item carries a citation id
(``E3`` a log line, ``T2`` a template ...) the answer must cite, so an answer can be checked
against what the model was actually shown.

Items and their id letters:

====  ==================================================================================
D1    the deterministic diagnosis (agent, title, root cause, confidence)
H     the deterministic hypotheses, in the fixer's ranking
K     knowledge-base entries matched, with root cause; the first may be a *strong* match
B     the runbook (remediation, commands) of a matched entry
T     the incident's templates: id, count, first seen, template text
E     example log lines with ``file:line``
C     context before the first error: deploys, restarts, reloads (``context.py``)
S     similar past incidents from memory, with how they were resolved
M     runbook passages memory found (the team's own runbooks)
====  ==================================================================================

The pack fits a character budget (tokens x chars-per-token): the least important items go
first (extra memory passages, past incidents, later lines), then the essential ones are cut
shorter. The header (severity, domain, counts, times, places) is uncited and always kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Incident, LineRef, SignalKind
from aiops_copilot.report.view import classifier_scores, domain_of, when

__all__ = ["EvidencePack", "KbAnchor", "PackItem", "build_pack"]

#: Characters of one log line in the pack (a stack trace shows its first lines).
LINE_CHARS = 240
RECORD_LINES = 3
MAX_LINES = 8
MAX_TEMPLATES = 6
MAX_CONTEXT = 4
MAX_KB = 3
MAX_SIMILAR = 3
MAX_PASSAGES = 2
MAX_HYPOTHESES = 5
#: Essential items are never dropped; when the budget is still exceeded they are cut to this.
MIN_ESSENTIAL_CHARS = 100
#: A word that ends in an ellipsis was cut short upstream.
_CUT_WORD = re.compile(r"\S+…")


@dataclass(frozen=True, slots=True)
class PackItem:
    """One cited piece of evidence as the model reads it, and what its id points to."""

    id: str
    section: str
    text: str
    #: For people: where the citation points (``app.log:120``, ``kb postgresql-...``).
    label: str
    priority: int
    essential: bool = False

    @property
    def line(self) -> str:
        return f"[{self.id}] {self.text}"


@dataclass(frozen=True, slots=True)
class KbAnchor:
    """A knowledge-base match strong enough that an answer may not contradict it."""

    item_id: str
    entry_id: str
    domain: str
    score: float


@dataclass(frozen=True)
class EvidencePack:
    """Everything the model is told about one incident, within the budget."""

    incident_id: str
    domain: str
    header: tuple[str, ...]
    items: tuple[PackItem, ...]
    anchor: KbAnchor | None
    budget_chars: int
    dropped: int = 0
    _index: dict[str, PackItem] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({item.id: item for item in self.items})

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._index)

    def label(self, item_id: str) -> str:
        item = self._index.get(item_id)
        return item.label if item is not None else item_id

    def section(self, name: str) -> list[PackItem]:
        return [item for item in self.items if item.section == name]

    @property
    def chars(self) -> int:
        return _size(self.header, self.items)

    def text(self) -> str:
        """The pack as plain text (what the prompt template lays out by section)."""
        return "\n".join([*self.header, *(item.line for item in self.items)])

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text().encode()).hexdigest()


def build_pack(
    incident: Incident,
    kb: KnowledgeBase,
    *,
    budget_chars: int,
    kb_confidence: float = 0.8,
    line_chars: int = LINE_CHARS,
) -> EvidencePack:
    """The pack for one diagnosed (or undiagnosed) incident, trimmed to ``budget_chars``."""
    names = _short_names(incident.sources)
    entries = _entries(incident, kb)
    items: list[PackItem] = []
    items += _diagnosis_items(incident)
    kb_items, anchor = _kb_items(incident, entries, kb_confidence)
    items += kb_items
    items += _template_items(incident)
    items += _line_items(incident, names, line_chars)
    items += _memory_items(incident)
    header = _header(incident)
    kept, dropped = _fit(header, items, budget_chars)
    if anchor is not None and anchor.item_id not in {item.id for item in kept}:
        anchor = None  # pragma: no cover - K1 is essential and always kept
    return EvidencePack(
        incident_id=incident.id,
        domain=domain_of(incident) or "application",
        header=tuple(header),
        items=tuple(kept),
        anchor=anchor,
        budget_chars=budget_chars,
        dropped=dropped,
    )


# -- sections -----------------------------------------------------------------------------------


def _header(incident: Incident) -> list[str]:
    # No incident id: it means nothing to a model, and without it two incidents with the same
    # evidence make the same request, which is then answered once.
    out = [
        f"severity: {incident.severity.value}",
        f"domain: {domain_of(incident) or 'application'}",
        f"records: {incident.count} from {when(incident.first_seen)} to {when(incident.last_seen)}",
    ]
    scores = classifier_scores(incident.classification)
    if scores:
        out.append(f"classifier: {scores}")
    for label, values in (
        ("services", incident.services),
        ("hosts", incident.hosts),
        ("sources", incident.sources),
    ):
        if values:
            out.append(f"{label}: {', '.join(values[:5])}")
    diagnosis = incident.diagnosis
    if diagnosis is not None and diagnosis.second_opinion:
        out.append(f"second opinion: {_clip(diagnosis.second_opinion, 200)}")
    own = [w for w in incident.grouped_because if not w.startswith("context (")]
    if own:
        out.append(f"grouped because: {_clip('; '.join(own[:3]), 240)}")
    return out


def _diagnosis_items(incident: Incident) -> list[PackItem]:
    diagnosis = incident.diagnosis
    if diagnosis is None:
        return []
    items = [
        PackItem(
            "D1",
            "diagnosis",
            f"agent {diagnosis.agent}, confidence {diagnosis.confidence:.2f}. "
            f"Title: {_clip(diagnosis.title, 160)}. Root cause: {_clip(diagnosis.root_cause, 500)}",
            f"deterministic diagnosis ({diagnosis.agent})",
            100,
            essential=True,
        )
    ]
    for number, hyp in enumerate(diagnosis.hypotheses[:MAX_HYPOTHESES], start=1):
        status = hyp.status.value.replace("_", " ")
        because = f" — {_clip(hyp.because, 200)}" if hyp.because else ""
        items.append(
            PackItem(
                f"H{number}",
                "hypotheses",
                f"{status} ({hyp.score:.2f}): {_clip(hyp.cause, 160)}{because}",
                f"deterministic hypothesis: {_clip(hyp.cause, 80)}",
                (30 if hyp.status.value == "ruled_out" else 72) - 4 * number,
            )
        )
    return items


def _entries(incident: Incident, kb: KnowledgeBase) -> list[Entry]:
    ids = list(incident.entry_ids)
    if incident.diagnosis is not None:
        ids += incident.diagnosis.entry_ids
    entries = [kb.get(i) for i in dict.fromkeys(ids)]
    return [e for e in entries if e is not None][:MAX_KB]


def _match_score(incident: Incident, entry_id: str) -> float:
    scores = [
        s.score
        for s in incident.signals
        if s.kind is SignalKind.SIGNATURE and s.entry_id == entry_id
    ]
    return max(scores, default=0.0)


def _kb_items(
    incident: Incident, entries: Sequence[Entry], threshold: float
) -> tuple[list[PackItem], KbAnchor | None]:
    items: list[PackItem] = []
    anchor: KbAnchor | None = None
    for number, entry in enumerate(entries, start=1):
        score = _match_score(incident, entry.id)
        strong = number == 1 and score >= threshold
        strength = f"signature match {score:.2f}" if score else "cited by the fixer"
        if strong:
            strength += " — HIGH CONFIDENCE"
            anchor = KbAnchor(f"K{number}", entry.id, entry.domain.value, score)
        items.append(
            PackItem(
                f"K{number}",
                "knowledge",
                f"{entry.id} (domain {entry.domain.value}, software {entry.software}, "
                f"severity {entry.severity.value}, {strength}): {_clip(entry.title, 140)}. "
                f"Root cause: {_clip(entry.root_cause, 400)}",
                f"knowledge base {entry.id}",
                95 if number == 1 else 55 - 5 * number,
                essential=number == 1,
            )
        )
        steps = " ".join(f"{i}) {_clip(s, 160)}" for i, s in enumerate(entry.remediation[:4], 1))
        commands = "; ".join(_clip(c, 120) for c in entry.commands[:2])
        text = f"runbook of K{number}: {steps}" + (f" Commands: {commands}" if commands else "")
        items.append(
            PackItem(
                f"B{number}",
                "knowledge",
                text,
                f"runbook of {entry.id}",
                66 if number == 1 else 40 - 5 * number,
            )
        )
    return items, anchor


def _first_seen(incident: Incident) -> dict[str, datetime]:
    seen: dict[str, datetime] = {}
    for signal in incident.signals:
        if signal.first_seen is None:
            continue
        current = seen.get(signal.template_id)
        if current is None or _before(signal.first_seen, current):
            seen[signal.template_id] = signal.first_seen
    return seen


def _template_items(incident: Incident) -> list[PackItem]:
    signalled = {s.template_id for s in incident.signals}
    first_seen = _first_seen(incident)
    items: list[PackItem] = []
    own = [t for t in incident.templates if t.template_id in signalled]
    context = [t for t in incident.templates if t.template_id not in signalled]
    for number, ref in enumerate(own[:MAX_TEMPLATES], start=1):
        seen = first_seen.get(ref.template_id)
        when_text = f", first seen {when(seen)}" if seen else ""
        items.append(
            PackItem(
                f"T{number}",
                "templates",
                f"template {ref.template_id} ({ref.count} records{when_text}): "
                f"{_clip(ref.template, 200)}",
                f"template {ref.template_id} ({ref.count} records)",
                88 - 6 * number,
                essential=number == 1,
            )
        )
    reasons = [w for w in incident.grouped_because if w.startswith("context (")]
    for number, ref in enumerate(context[:MAX_CONTEXT], start=1):
        why = _clip(reasons[number - 1], 200) if number <= len(reasons) else "context"
        items.append(
            PackItem(
                f"C{number}",
                "context",
                f"context template {ref.template_id} ({ref.count} records): "
                f"{_clip(ref.template, 160)} — {why}",
                f"context template {ref.template_id}",
                64 - 6 * number,
            )
        )
    return items


def _line_items(incident: Incident, names: dict[str, str], line_chars: int) -> list[PackItem]:
    """Key lines (the diagnosis' evidence first), then the lines just before the first error."""
    first = incident.first_seen
    before: list[LineRef] = []
    during: list[LineRef] = []
    key = list(incident.diagnosis.evidence) if incident.diagnosis is not None else []
    seen: set[tuple[str, int]] = set()
    for ref in [*key, *incident.lines]:
        where = (ref.source, ref.line_no)
        if where in seen:
            continue
        seen.add(where)
        if first is not None and ref.timestamp is not None and _before(ref.timestamp, first):
            before.append(ref)
        else:
            during.append(ref)
    items: list[PackItem] = []
    texts: set[str] = set()
    for number, ref in enumerate(_distinct(during, texts)[:MAX_LINES], start=1):
        items.append(
            PackItem(
                f"E{number}",
                "lines",
                f"{_location(ref, names)} {_record(ref.text, line_chars)}",
                ref.location,
                84 - 5 * number,
                essential=number == 1,
            )
        )
    offset = len(_context_ids(incident))  # these C ids follow the context templates'
    for number, ref in enumerate(_distinct(before, texts)[:MAX_CONTEXT], start=offset + 1):
        items.append(
            PackItem(
                f"C{number}",
                "context",
                f"before the first error: {_location(ref, names)} {_record(ref.text, line_chars)}",
                ref.location,
                62 - 5 * (number - offset),
            )
        )
    return items


def _context_ids(incident: Incident) -> list[str]:
    signalled = {s.template_id for s in incident.signals}
    ids = [t.template_id for t in incident.templates if t.template_id not in signalled]
    return ids[:MAX_CONTEXT]


def _memory_items(incident: Incident) -> list[PackItem]:
    diagnosis = incident.diagnosis
    if diagnosis is None:
        return []
    items: list[PackItem] = []
    for number, similar in enumerate(diagnosis.similar[:MAX_SIMILAR], start=1):
        parts = [f"past incident ({similar.score:.2f} similar): {_clip(similar.title, 140)}"]
        if similar.domain:
            parts.append(f"domain {similar.domain}")
        if similar.root_cause:
            parts.append(f"root cause then: {_clip(similar.root_cause, 240)}")
        if similar.resolution:
            parts.append(f"resolved by: {_clip(similar.resolution, 200)}")
        items.append(
            PackItem(
                f"S{number}",
                "similar",
                "; ".join(parts),
                f"past incident {similar.fingerprint[:16]}",
                58 - 8 * number,
            )
        )
    for number, passage in enumerate(diagnosis.runbooks[:MAX_PASSAGES], start=1):
        where = passage.source + (f":{passage.line}" if passage.line else "")
        items.append(
            PackItem(
                f"M{number}",
                "runbooks",
                f"runbook passage {_clip(passage.title, 120)} ({passage.score:.2f} similar): "
                f"{_clip(passage.text, 360)}",
                f"runbook {where}",
                46 - 8 * number,
            )
        )
    return items


# -- fitting ------------------------------------------------------------------------------------


def _size(header: Iterable[str], items: Iterable[PackItem]) -> int:
    return sum(len(h) + 1 for h in header) + sum(len(i.line) + 1 for i in items)


def _fit(header: list[str], items: list[PackItem], budget: int) -> tuple[list[PackItem], int]:
    """Drop the least important items, then shorten the essential ones, until it fits."""
    kept = list(items)
    dropped = 0
    while _size(header, kept) > budget:
        optional = [i for i in kept if not i.essential]
        if not optional:
            break
        # Lowest priority first; among equals, the one listed last.
        victim = min(reversed(optional), key=lambda i: i.priority)
        kept.remove(victim)
        dropped += 1
    if _size(header, kept) > budget:
        over = _size(header, kept) - budget
        share = max(MIN_ESSENTIAL_CHARS, max(len(i.text) for i in kept) - over)
        kept = [
            PackItem(i.id, i.section, _clip(i.text, share), i.label, i.priority, i.essential)
            for i in kept
        ]
    return kept, dropped


# -- helpers ------------------------------------------------------------------------------------


def _distinct(refs: Sequence[LineRef], texts: set[str]) -> list[LineRef]:
    """Lines whose text was not shown yet: a thousand identical errors need one example."""
    out: list[LineRef] = []
    for ref in refs:
        if ref.text in texts:
            continue
        texts.add(ref.text)
        out.append(ref)
    return out


def _short_names(sources: Sequence[str]) -> dict[str, str]:
    """File names instead of full paths when they are still unambiguous."""
    names = {source: PurePath(source).name or source for source in sources}
    if len(set(names.values())) < len(names):
        return {source: source for source in sources}
    return names


def _location(ref: LineRef, names: dict[str, str]) -> str:
    name = names.get(ref.source) or PurePath(ref.source).name or ref.source
    span = str(ref.line_no) if ref.end_line <= ref.line_no else f"{ref.line_no}-{ref.end_line}"
    return f"{name}:{span}"


def _record(text: str, limit: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()][:RECORD_LINES]
    return _clip(" ⏎ ".join(lines), limit)


def _clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, never ending in part of a word.

    Why whole words: the redaction gate recognises a secret by its shape (an AWS key is
    ``AKIA`` and 16 more characters), so half a secret would pass it unrecognised. A word
    someone else already cut short (``AKIAQ3…`` in a grouping reason) is dropped for the
    same reason.
    """
    flat = _CUT_WORD.sub("…", " ".join(str(text).split()))
    if len(flat) <= limit:
        return flat
    cut = flat[: max(0, limit - 1)]
    if not flat[len(cut)].isspace():
        cut = cut.rsplit(" ", 1)[0] if " " in cut else ""
    return cut.rstrip() + "…"


def _before(a: datetime, b: datetime) -> bool:
    """``a < b`` that tolerates one naive and one aware time (a mix of sources)."""
    try:
        return a < b
    except TypeError:
        return a.replace(tzinfo=None) < b.replace(tzinfo=None)
