"""Novelty: templates that are new, or rare, against a baseline.

Two baselines. With ``--baseline PATH`` the baseline is what the same miner saw in those files
first: a template it never saw there is new, and one it saw only a handful of times that is now
much more frequent is rare-turned-common. Without one, the earlier part of each source is its
own baseline: a template that first shows up after the first 30 % of its source (and after a
few hundred records at least) did not belong to the way that source normally talks.

Novelty alone is weak evidence: software starts saying new things all the time (a new feature,
a nightly job, a reload). So the score stays below the alert threshold for chatter and only
rises when the template also sounds like a failure (:mod:`aiops_copilot.detect.tone`); the
grouping stage combines it with the other signals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.detect.tone import tone_of
from aiops_copilot.models import Severity, Signal, SignalKind

_OTHER = "(other)"


@dataclass(frozen=True, slots=True)
class NoveltyConfig:
    #: Without a baseline, the first ``warmup`` of each source is its own baseline.
    warmup: float = 0.3
    #: Fewest earlier records of the same source before a template may be called new.
    min_prior: int = 200
    #: Earlier records at which the confidence in "new" reaches one half.
    history_scale: int = 500
    #: Statistical score of a template never seen before, and of a rare one now common.
    new_score: float = 0.3
    rare_score: float = 0.2
    #: A known template is rare when the baseline saw it at most this share of its records ...
    rare_fraction: float = 1e-4
    #: ... or at most this many times,
    rare_max: int = 2
    #: and it is reported only when it is now this many times as frequent.
    rare_rise: float = 5.0


def when(ts: datetime | None) -> str:
    """A timestamp as a person reads it in a reason."""
    return ts.strftime("%Y-%m-%d %H:%M:%S") if ts is not None else "an unknown time"


def _short_source(source: str) -> str:
    return source.rsplit("/", 1)[-1] or source


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    start: int
    size: int


def _streams(templates: Sequence[TemplateStats], records: int) -> dict[str, _Stream]:
    """Where each source's records lie in the input: sources are read one after another, so a
    source's records start at the first index of its earliest template."""
    start: dict[str, int] = {}
    size: Counter[str] = Counter()
    for item in templates:
        for source, count in item.sources.items():
            if source == _OTHER:
                continue
            size[source] += count
            start[source] = min(start.get(source, item.first_index), item.first_index)
    streams = {s: _Stream(_short_source(s), start[s], size[s]) for s in start}
    streams[""] = _Stream("the input", 0, records)
    return streams


def _stream_of(item: TemplateStats, streams: Mapping[str, _Stream]) -> _Stream:
    """The source the template's first record came from: the one whose records span its first
    index, else the latest that began before it, else the whole input."""
    best: _Stream | None = None
    for source in item.sources:
        stream = streams.get(source)
        if stream is None or stream.start > item.first_index:
            continue
        if item.first_index < stream.start + stream.size:
            return stream
        if best is None or stream.start > best.start:
            best = stream
    return best or streams[""]


def novelty_signals(
    templates: Sequence[TemplateStats],
    records: int,
    *,
    baseline_counts: Mapping[str, int] | None = None,
    baseline_records: int = 0,
    config: NoveltyConfig | None = None,
) -> list[Signal]:
    """Signals for new and rare templates. ``baseline_counts`` (template id -> baseline records)
    switches from "the earlier part of the input" to the baseline."""
    config = config or NoveltyConfig()
    signals: list[Signal] = []
    if baseline_counts is not None and baseline_records > 0:
        confidence = baseline_records / (baseline_records + config.history_scale)
        rare_limit = max(config.rare_max, int(config.rare_fraction * baseline_records))
        for item in templates:
            seen = baseline_counts.get(item.template_id, 0)
            if seen == 0:
                reason = (
                    f"never in the baseline ({baseline_records:,} records); first seen here at "
                    f"{when(item.first_seen)}, {item.count:,} record(s) since"
                )
                signals.append(_signal(item, config.new_score, confidence, reason))
                continue
            if seen > rare_limit or records <= 0:
                continue
            before = seen / baseline_records
            now = item.count / records
            if now >= config.rare_rise * before:
                reason = (
                    f"rare in the baseline ({seen:,} of {baseline_records:,} records) but "
                    f"{item.count:,} of {records:,} here, {now / before:,.0f}x as frequent"
                )
                signals.append(_signal(item, config.rare_score, confidence, reason))
        return signals
    streams = _streams(templates, records)
    for item in templates:
        stream = _stream_of(item, streams)
        prior = item.first_index - stream.start
        if stream.size <= 0 or prior < max(config.min_prior, config.warmup * stream.size):
            continue
        confidence = prior / (prior + config.history_scale)
        reason = (
            f"new in this input: first seen at {when(item.first_seen)} after {prior:,} earlier "
            f"records of {stream.name} ({prior / stream.size:.0%} of the way in), "
            f"{item.count:,} record(s) since"
        )
        signals.append(_signal(item, config.new_score, confidence, reason))
    return signals


def _signal(item: TemplateStats, base: float, confidence: float, reason: str) -> Signal:
    tone = tone_of(item)
    score = min(1.0, tone.boost + tone.weight * base * confidence)
    if tone.severity is Severity.INFO:
        reason += f"; the template sounds like {tone.name}, so this alone is weak evidence"
    return Signal(
        kind=SignalKind.NOVELTY,
        template_id=item.template_id,
        score=round(score, 3),
        reason=reason,
        severity=tone.severity,
        count=item.count,
        first_seen=item.first_seen,
        last_seen=item.last_seen,
    )


def detect_novelty(
    templates: list[TemplateStats],
    collector: StatsCollector,
    *,
    baseline: Baseline | None = None,
    config: NoveltyConfig | None = None,
) -> list[Signal]:
    """The pipeline's detector: ``functools.partial(detect_novelty, baseline=b)`` fits the
    ``(templates, collector) -> signals`` shape the analysis expects."""
    if baseline is not None and baseline.records > 0:
        return novelty_signals(
            templates,
            collector.records,
            baseline_counts=baseline.template_counts(collector.template_ids()),
            baseline_records=baseline.records,
            config=config,
        )
    return novelty_signals(templates, collector.records, config=config)
