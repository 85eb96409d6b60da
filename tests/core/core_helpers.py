"""Small builders for the core tests: records mined into real template statistics, hand-made
knowledge-base entries, findings and incidents.

The detectors and the grouping read :class:`TemplateStats` built by the real miner and
collector, so the tests build them the same way from plain lines rather than faking them: a
test then breaks when the pipeline's behaviour changes, not when a private field is renamed.
Knowledge-base entries are written here (not taken from the shipped base) where a test needs a
signature of a given domain and severity, so that editing a shipped runbook cannot break them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aiops_copilot.analysis import AnalysisOptions, detect
from aiops_copilot.detect.noise import CompiledRule
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.incidents import TemplateFinding, group_findings
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import (
    Domain,
    Incident,
    Level,
    LineRef,
    LogRecord,
    Severity,
    Signal,
    SignalKind,
    TemplateRef,
)
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A time ``minutes`` after the tests' fixed start (12:00 UTC on 1 May 2024)."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Rec:
    """One log record as a test writes it. Line numbers count per source, as ingest counts
    them; ``end_offset`` makes the record span that many more physical lines (a traceback)."""

    message: str
    level: Level = Level.INFO
    at: datetime | None = None
    source: str = "app.log"
    service: str | None = None
    host: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None
    end_offset: int = 0


def records(lines: Iterable[Rec]) -> list[LogRecord]:
    """LogRecords numbered per source, the way ingest numbers physical lines."""
    numbers: dict[str, int] = {}
    out: list[LogRecord] = []
    for line in lines:
        number = numbers.get(line.source, 0) + 1
        numbers[line.source] = number + line.end_offset
        out.append(
            LogRecord(
                message=line.message,
                timestamp=line.at,
                level=line.level,
                host=line.host,
                service=line.service,
                fields=dict(line.fields),
                source=line.source,
                line_no=number,
                end_line=number + line.end_offset,
                raw=line.raw if line.raw is not None else line.message,
            )
        )
    return out


def collect(
    lines: Iterable[Rec],
    *,
    miner: TemplateMiner | None = None,
    collector: StatsCollector | None = None,
) -> tuple[StatsCollector, list[TemplateStats]]:
    """Mine the lines into a collector and finish it (a new miner and collector by default)."""
    miner = TemplateMiner() if miner is None else miner
    collector = StatsCollector() if collector is None else collector
    for record in records(lines):
        collector.observe(record, mine_record(miner, record))
    return collector, collector.finish()


def stats_of(lines: Iterable[Rec]) -> TemplateStats:
    """The statistics of lines that must all fall into one template."""
    _, templates = collect(lines)
    assert len(templates) == 1, [t.template for t in templates]
    return templates[0]


def repeat(message: str, count: int, **kwargs: Any) -> list[Rec]:
    """``count`` copies of one line, one per minute from ``start`` (default minute 0)."""
    start = kwargs.pop("start", 0.0)
    step = kwargs.pop("step", 1.0)
    return [Rec(message, at=at(start + i * step), **kwargs) for i in range(count)]


def by_template(templates: Iterable[TemplateStats], text: str) -> TemplateStats:
    """The one template whose example contains ``text``."""
    found = [t for t in templates if text in t.example]
    assert len(found) == 1, [t.template for t in templates]
    return found[0]


def entry(
    entry_id: str,
    *,
    domain: Domain,
    severity: Severity,
    regex: str,
    software: str = "testware",
    title: str | None = None,
) -> Entry:
    """A valid knowledge-base entry recognising ``regex``; its example is the regex itself
    when it is plain text (the tests only need the match, not the runbook)."""
    return Entry.model_validate(
        {
            "id": entry_id,
            "domain": domain.value,
            "software": software,
            "title": title or f"title of {entry_id}",
            "severity": severity.value,
            "match": {"regex": regex},
            "examples": [regex],
            "root_cause": f"root cause of {entry_id}",
            "remediation": [f"fix {entry_id}"],
            "references": ["https://example.org/doc"],
        }
    )


def kb_of(entries: Sequence[Entry]) -> KnowledgeBase:
    """A knowledge base holding exactly these entries."""
    return KnowledgeBase(entries={e.id: e for e in entries})


@cache
def shipped_kb() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per test session."""
    return load_knowledge()


def signal(
    kind: SignalKind,
    template_id: str = "tpl",
    *,
    score: float = 0.6,
    severity: Severity = Severity.MEDIUM,
    entry_id: str | None = None,
) -> Signal:
    return Signal(
        kind,
        template_id=template_id,
        score=score,
        reason=f"{kind.value} test signal",
        severity=severity,
        entry_id=entry_id,
    )


def incident(
    lines: Sequence[str] = (),
    *,
    incident_id: str = "INC-test",
    severity: Severity = Severity.MEDIUM,
    entry_ids: Sequence[str] = (),
    formats: Sequence[str] = (),
    services: Sequence[str] = (),
    examples: Sequence[str] | None = None,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    sources: Sequence[str] = ("app.log",),
    entities: dict[str, int] | None = None,
) -> Incident:
    """An incident whose templates' examples and evidence lines are ``lines``."""
    examples = list(lines) if examples is None else list(examples)
    return Incident(
        id=incident_id,
        fingerprint=f"fp:{incident_id}",
        title=lines[0] if lines else "untitled",
        severity=severity,
        score=0.6,
        signals=[],
        templates=[TemplateRef(f"t{i}", text, 1, text) for i, text in enumerate(examples)],
        count=len(lines),
        first_seen=first_seen,
        last_seen=last_seen,
        services=list(services),
        sources=list(sources),
        formats=list(formats),
        lines=[LineRef("app.log", n, n, text) for n, text in enumerate(lines, start=1)],
        entities=dict(entities or {}),
        entry_ids=list(entry_ids),
    )


def findings_of(
    lines: Iterable[Rec], kb: KnowledgeBase, *, noise: Sequence[CompiledRule] = ()
) -> list[TemplateFinding]:
    """The lines mined and run through the analysis' own detection step (severity and
    signature signals, noise rules, assessment), without the statistical detectors."""
    collector, templates = collect(lines)
    found, _ = detect(templates, collector, kb, AnalysisOptions(noise_rules=tuple(noise)))
    return found


def incidents_of(
    lines: Iterable[Rec], kb: KnowledgeBase, *, window: timedelta = timedelta(minutes=5)
) -> tuple[list[Incident], list[TemplateStats]]:
    """The lines grouped into incidents (no context, no diagnosis), and every template."""
    collector, templates = collect(lines)
    found, _ = detect(templates, collector, kb, AnalysisOptions(noise_rules=()))
    return group_findings(found, kb, window=window), templates
