"""Build :class:`Incident` objects for fixer tests, from hand-written lines or from real logs.

The fixers only ever see an ``Incident``; these helpers fill one the way the pipeline does
(templates with counts and examples, evidence lines, entities, matching knowledge-base entries),
so a fixer test can start from the log lines a human would paste into a ticket. The real-log
builder reads an evaluation case with the project's own ingest, miner and statistics, and keeps
the templates that look wrong (warning or worse, a known signature, an HTTP error status, or an
unlabelled line that says it failed), which is roughly what the detectors will hand over.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from aiops_copilot.agents.base import FixerContext
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.models import (
    Diagnosis,
    Incident,
    Level,
    LineRef,
    Severity,
    TemplateRef,
)
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record

EVALS = Path(__file__).resolve().parent.parent / "evals"
_ERRORISH = re.compile(
    r"(?i)error|fail|fatal|exception|refused|denied|timeout|timed out|panic|invalid|killed|"
    r"traceback|status=5\d\d|unavailable|cannot|could not|too many|exceeded|abort"
)
_ENTITY = re.compile(
    r"(?P<ip>(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.]))"
    r"|(?:\b(?:user|for(?: invalid user)?|login|username)[=: ]+['\"]?(?P<user>[\w.@-]{1,64}))"
)


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


def context() -> FixerContext:
    return FixerContext(kb=kb())


def _entry_ids(texts: Iterable[str]) -> list[str]:
    """Entries matching any text, most severe first (as the pipeline orders them)."""
    order = kb().matching_order()
    found: list[str] = []
    for text in texts:
        for entry in order:
            if entry.matches(text):
                if entry.id not in found:
                    found.append(entry.id)
                break
    rank = {e.id: i for i, e in enumerate(order)}
    return sorted(found, key=rank.__getitem__)


def _entities(texts: Iterable[str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for text in texts:
        for m in _ENTITY.finditer(text):
            if m.group("ip"):
                counts[f"ip:{m.group('ip')}"] += 1
            elif m.group("user"):
                counts[f"user:{m.group('user')}"] += 1
    return dict(counts)


def incident_from_lines(
    lines: Sequence[str],
    *,
    source: str = "app.log",
    formats: Sequence[str] = (),
    services: Sequence[str] = (),
    entry_ids: Sequence[str] | None = None,
    counts: Sequence[int] | None = None,
) -> Incident:
    """An incident whose templates and evidence are exactly ``lines`` (one template a line).

    ``counts`` gives each line's template count (default 1); entry ids are matched from the
    knowledge base unless given.
    """
    refs = [LineRef(source, i + 1, i + 1, text) for i, text in enumerate(lines)]
    counts = list(counts) if counts is not None else [1] * len(lines)
    templates = [
        TemplateRef(f"t{i}", text, n, text)
        for i, (text, n) in enumerate(zip(lines, counts, strict=True))
    ]
    return Incident(
        id="inc-test",
        fingerprint="fp-test",
        title=lines[0][:80] if lines else "",
        severity=Severity.HIGH,
        score=0.8,
        signals=[],
        templates=templates,
        count=sum(counts),
        first_seen=None,
        last_seen=None,
        services=list(services),
        sources=[source],
        formats=list(formats),
        lines=refs,
        entities=_entities(lines),
        entry_ids=list(entry_ids) if entry_ids is not None else _entry_ids(lines),
    )


def _looks_wrong(stats: TemplateStats, hit: bool) -> bool:
    if hit or stats.max_level >= Level.WARNING:
        return True
    if any(s[:1] in ("4", "5") for s in stats.statuses):
        return True
    return stats.max_level in (Level.UNKNOWN, Level.NOTICE) and bool(
        _ERRORISH.search(stats.example)
    )


#: Lines that matter next to failures although they are not failures themselves: a login that
#: succeeded (after a brute force), a session opened. The pipeline is expected to attach them
#: when they share a source address or user with the incident.
RELATED = re.compile(
    r"Accepted (?:password|keyboard-interactive|publickey)|session opened for user"
)


def incident_from_logs(folder: Path, *, max_lines: int = 30, related: bool = True) -> Incident:
    """An incident made of every template of ``folder``'s logs that looks wrong.

    With ``related``, templates matching :data:`RELATED` that name an address or user seen in
    the chosen templates' lines are added too.
    """
    run = open_inputs([str(folder)])
    miner = TemplateMiner()
    collector = StatsCollector()
    for record in iter_records(run, ReadOptions()):
        collector.observe(record, mine_record(miner, record))
    order = kb().matching_order()
    chosen: list[TemplateStats] = []
    entry_ids: list[str] = []
    all_stats = collector.finish()
    for stats in all_stats:
        hit = next((e.id for e in order if e.matches(stats.example)), None)
        if hit and kb().entries[hit].severity == Severity.INFO and stats.max_level < Level.WARNING:
            hit = None
        if _looks_wrong(stats, hit is not None):
            chosen.append(stats)
            if hit and hit not in entry_ids:
                entry_ids.append(hit)
    if related:
        names = {key.split(":", 1)[1].split(":")[0] for s in chosen for key in s.entities}
        for stats in all_stats:
            if any(stats is c for c in chosen) or not RELATED.search(stats.example):
                continue
            texts = [stats.example, *(ref.text for ref in stats.lines)]
            if any(name and name in text for name in names for text in texts):
                chosen.append(stats)
    rank = {e.id: i for i, e in enumerate(order)}
    entry_ids.sort(key=rank.__getitem__)
    # Evidence: round-robin over templates, worst level first, capped like the pipeline's.
    queues = [list(s.lines) for s in sorted(chosen, key=lambda s: (-s.max_level, -s.count))]
    lines: list[LineRef] = []
    while len(lines) < max_lines and any(queues):
        for queue in queues:
            if queue and len(lines) < max_lines:
                lines.append(queue.pop(0))
    entities: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    services: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    for s in chosen:
        entities.update(s.entities)
        hosts.update(s.hosts)
        services.update(s.services)
        sources.update(s.sources)
        formats.update(s.formats)
    seen = [s.first_seen for s in chosen if s.first_seen]
    last = [s.last_seen for s in chosen if s.last_seen]
    first_seen: datetime | None = min(seen) if seen else None
    last_seen: datetime | None = max(last) if last else None
    return Incident(
        id=f"inc-{folder.parent.name}",
        fingerprint=folder.parent.name,
        title=chosen[0].example[:80] if chosen else "",
        severity=Severity.HIGH,
        score=0.8,
        signals=[],
        templates=[TemplateRef(s.template_id, s.template, s.count, s.example) for s in chosen],
        count=sum(s.count for s in chosen),
        first_seen=first_seen,
        last_seen=last_seen,
        hosts=[h for h, _ in hosts.most_common()],
        services=[h for h, _ in services.most_common()],
        sources=[h for h, _ in sources.most_common()],
        formats=[h for h, _ in formats.most_common()],
        lines=lines,
        entities=dict(entities),
        entry_ids=entry_ids,
    )


def eval_cases(domain: str) -> list[Path]:
    """The development cases of a domain. Hold-out cases (``holdout: true``) are scored only
    through the whole pipeline, by tests/test_evals.py, never through this hand-built view."""
    return sorted(
        p.parent
        for p in (EVALS / domain).glob("*/expected.yaml")
        if not (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).get("holdout")
    )


def expected_keywords(case: Path) -> list[list[str]]:
    data = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    return [list(map(str, group)) for group in data.get("root_cause_keywords", [])]


def missing_keywords(diagnosis: Diagnosis, groups: list[list[str]]) -> list[list[str]]:
    """The keyword groups none of whose phrases occurs in the title or root cause."""
    text = f"{diagnosis.title}\n{diagnosis.root_cause}".lower()
    return [group for group in groups if not any(p.lower() in text for p in group)]
