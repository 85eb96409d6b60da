"""One analysis from records to ranked, diagnosed incidents: the pipeline the CLI, and later
the watcher and the API, all run.

Records stream through the miner and the statistics collector (the only per-line work); every
later stage — detection, grouping, classification, diagnosis — works on templates and incidents,
so its cost does not grow with the number of lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from aiops_copilot.agents.base import MemoryLookup
from aiops_copilot.agents.orchestrator import DiagnosisAssistant, diagnose_all
from aiops_copilot.context import attach_context
from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.bursts import detect_bursts
from aiops_copilot.detect.noise import CompiledRule, noise_reason, shipped_rules
from aiops_copilot.detect.novelty import detect_novelty
from aiops_copilot.detect.sessions import detect_sessions
from aiops_copilot.detect.severity import severity_signal
from aiops_copilot.detect.signatures import signature_signals
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.incidents import TemplateFinding, assess, group_findings
from aiops_copilot.ingest.reader import IngestRun
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.matcher import SignatureHit
from aiops_copilot.learning import LearnedRules
from aiops_copilot.models import AnalysisResult, LogRecord, Signal, SignalKind, TemplateCount
from aiops_copilot.parsing.miner import Cluster, TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record
from aiops_copilot.report import summary as summary_report

#: A detector over the finished statistics: (templates, collector) -> signals.
Detector = Callable[[list[TemplateStats], StatsCollector], list[Signal]]


@dataclass
class AnalysisOptions:
    #: Minutes within which errors are grouped into one incident or linked as cause and symptom.
    window_minutes: float = 5.0
    #: Templates listed in the summary.
    top: int = 10
    noise_rules: tuple[CompiledRule, ...] = field(default_factory=shipped_rules)
    #: Extra detectors (novelty, bursts, sessions) run after severity and signatures.
    detectors: tuple[Detector, ...] = ()
    #: Vector memory the fixers cite runbooks and similar past incidents from (None: none).
    memory: MemoryLookup | None = None
    #: Rules learned from feedback (aiops feedback): routing, grouping, signature weights.
    learned: LearnedRules = field(default_factory=LearnedRules)
    #: An optional model that refines the diagnoses (``--llm``); None: deterministic only.
    assistant: DiagnosisAssistant | None = None


#: Called with each record and its cluster as they stream past (benchmarks map lines to
#: templates with it; the watcher will count with it).
RecordHook = Callable[[LogRecord, Cluster], None]


def collect(
    records: Iterable[LogRecord], miner: TemplateMiner, on_record: RecordHook | None = None
) -> StatsCollector:
    """Mine every record and gather per-template statistics: the only per-line stage."""
    collector = StatsCollector()
    observe = collector.observe
    for record in records:
        cluster = mine_record(miner, record)
        observe(record, cluster)
        if on_record is not None:
            on_record(record, cluster)
    return collector


def detect(
    templates: list[TemplateStats],
    collector: StatsCollector,
    kb: KnowledgeBase,
    options: AnalysisOptions,
) -> tuple[list[TemplateFinding], Counter[str]]:
    """Every template's signals combined into a finding; counts of what fired and was muted."""
    signals: dict[str, list[Signal]] = {}

    def add(signal: Signal | None) -> None:
        if signal is not None:
            signals.setdefault(signal.template_id, []).append(signal)

    for item in templates:
        add(severity_signal(item))
    for signal in signature_signals(kb, templates):
        add(_weighted(signal, options.learned))
    for detector in options.detectors:
        for signal in detector(templates, collector):
            add(signal)
    counts: Counter[str] = Counter()
    findings: list[TemplateFinding] = []
    for item in templates:
        found = signals.get(item.template_id)
        if not found:
            continue
        # A known signature of medium or worse is never routine, whatever the line looks like.
        known = any(s.kind is SignalKind.SIGNATURE and s.severity.rank >= 2 for s in found)
        noise = None if known else noise_reason(item, options.noise_rules)
        finding = assess(item, found, noise)
        findings.append(finding)
        for signal in found:
            counts[signal.kind.value] += 1
        if noise:
            counts["suppressed_as_noise"] += 1
    return findings, counts


def analyze(
    run: IngestRun,
    records: Iterable[LogRecord],
    miner: TemplateMiner,
    kb: KnowledgeBase,
    options: AnalysisOptions | None = None,
    *,
    on_record: RecordHook | None = None,
) -> AnalysisResult:
    """Read, detect, group, classify and diagnose; the result is ranked worst first."""
    return conclude(run, collect(records, miner, on_record), miner, kb, options)


def conclude(
    run: IngestRun,
    collector: StatsCollector,
    miner: TemplateMiner,
    kb: KnowledgeBase,
    options: AnalysisOptions | None = None,
    *,
    templates: list[TemplateStats] | None = None,
) -> AnalysisResult:
    """Everything after the per-line stage, on a collector that has seen the records: the
    watcher mines records as they arrive and concludes once per window. Pass ``templates``
    when ``collector.finish()`` was already called (it must not run twice)."""
    options = options or AnalysisOptions()
    templates = collector.finish() if templates is None else templates
    findings, counts = detect(templates, collector, kb, options)
    window = timedelta(minutes=options.window_minutes)
    grouped = group_findings(findings, kb, window=window, learned=options.learned)
    attach_context(grouped, templates, window=window)
    incidents = diagnose_all(
        grouped, kb, memory=options.memory, learned=options.learned, assistant=options.assistant
    )
    hits = _signature_hits(findings, kb)
    summary: dict[str, Any] = summary_report.build(
        run, miner, dict(collector.levels), top=options.top, signatures=hits
    )
    summary["detection"] = {
        "signals": {kind.value: counts.get(kind.value, 0) for kind in SignalKind},
        "templates_with_signals": len(findings),
        "suppressed_as_noise": counts.get("suppressed_as_noise", 0),
        "sessions": len(collector.sessions),
        "incidents": len(incidents),
    }
    if options.assistant is not None:
        summary["llm"] = options.assistant.summary()
    observations = [s for f in findings if not f.alerting for s in f.signals]
    return AnalysisResult(
        incidents=incidents,
        summary=summary,
        observations=observations,
        templates=[_counted(item) for item in templates],
    )


def _counted(stats: TemplateStats) -> TemplateCount:
    """A template's count and histogram for the store (the Counter is shared, not copied)."""
    return TemplateCount(
        template_id=stats.template_id,
        template=stats.template,
        example=stats.example,
        count=stats.count,
        first_seen=stats.first_seen,
        last_seen=stats.last_seen,
        minutes=stats.minutes,
    )


def _weighted(signal: Signal, learned: LearnedRules) -> Signal:
    """A signature people marked wrong counts less (aiops feedback --wrong); the reason says so."""
    rule = learned.weight_of(signal.entry_id or "")
    if rule is None or rule.weight >= 1.0:
        return signal
    signal.score = round(signal.score * rule.weight, 3)
    signal.reason = f"{signal.reason} ({rule.why})"
    return signal


def _signature_hits(findings: list[TemplateFinding], kb: KnowledgeBase) -> list[SignatureHit]:
    grouped: dict[str, tuple[list[str], int]] = {}
    for finding in findings:
        if finding.entry_id:
            ids, count = grouped.get(finding.entry_id, ([], 0))
            grouped[finding.entry_id] = (
                [*ids, finding.stats.template_id],
                count + finding.stats.count,
            )
    hits = []
    for entry_id, (ids, count) in grouped.items():
        entry = kb.get(entry_id)
        if entry is not None:
            hits.append(SignatureHit(entry, tuple(ids), count))
    return sorted(hits, key=lambda h: (-h.entry.severity.rank, -h.count, h.entry.id))


def learn_baseline(records: Iterable[LogRecord], miner: TemplateMiner) -> Baseline:
    """Mine logs of normal operation with the miner the analysis will use, and remember them."""
    collector = collect(records, miner)
    return Baseline.from_collector(collector)


def default_detectors(baseline: Baseline | None = None) -> tuple[Detector, ...]:
    """The statistical detectors every analysis runs: novelty, bursts, broken sessions."""
    return (
        partial(detect_novelty, baseline=baseline),
        partial(detect_bursts, baseline=baseline),
        partial(detect_sessions, baseline=baseline),
    )
