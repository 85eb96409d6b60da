"""Bursts: a template's rate jumping against its own history.

Each template's records are counted in windows of a few minutes (from the per-minute counts the
statistics already keep) and every window is compared with the windows before it in the same
input: their median and median absolute deviation (robust to earlier bursts), and their peak.
With a baseline, the baseline's rate and peak for the template count as history too. Windows
are laid twice, the second set shifted by half a window, so that a burst straddling a window
edge is not cut in two.

A burst needs all of: enough records in the window (1 -> 3 lines is not a burst), a rate well
above the usual one, a robust z-score that says it is not ordinary jitter, and more than any
earlier window (a job that runs every hour and logs 50 lines is busy, not bursting). A template
with no history at all (first seen in this window) is novelty's business, not a burst.
Templates without timestamps have no rate and give no signal.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from aiops_copilot.detect.baseline import Baseline, epoch_span
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.detect.tone import tone_of
from aiops_copilot.models import Severity, Signal, SignalKind

#: Scale that makes the median absolute deviation comparable with a standard deviation.
_MAD_SCALE = 1.4826


@dataclass(frozen=True, slots=True)
class BurstConfig:
    #: Window width in minutes.
    window_minutes: int = 5
    #: Fewest records in one window to call it a burst.
    min_count: int = 10
    #: The window must hold this many times the usual records per window ...
    min_factor: float = 4.0
    #: ... be this many robust standard deviations above the median ...
    min_z: float = 3.0
    #: ... and exceed every earlier window by this factor.
    peak_margin: float = 1.5
    #: Earlier windows needed to know the usual rate (without a baseline rate).
    min_history: int = 3


@dataclass(frozen=True, slots=True)
class Burst:
    """The strongest burst window of one template."""

    start: int  # epoch minute, inclusive
    end: int  # epoch minute, exclusive
    count: int
    expected: float  # usual records per window
    median: float  # median of the earlier windows in this input (0 when none)
    baseline: float  # records per window at the baseline's rate (0 without a baseline)
    previous_peak: int  # the busiest earlier window (input or baseline)
    history: int  # earlier windows in this input
    windows: int  # windows that burst, the strongest included

    @property
    def factor(self) -> float:
        return self.count / self.expected

    @property
    def per_minute(self) -> float:
        return self.count / max(1, self.end - self.start)


def _weighted_median(items: Sequence[tuple[float, int]]) -> float:
    """Median of values given as (value, how many times), sorted by value."""
    total = sum(weight for _, weight in items)
    if total == 0:
        return 0.0
    wanted = ((total - 1) // 2, total // 2)
    found: list[float] = []
    seen = 0
    for value, weight in items:
        while len(found) < 2 and wanted[len(found)] < seen + weight:
            found.append(value)
        seen += weight
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def median_and_mad(values: Sequence[float], zeros: int) -> tuple[float, float]:
    """Median and median absolute deviation of sorted ``values`` plus ``zeros`` empty windows
    (the empty windows are counted, not materialised: an input may span weeks)."""
    median = _weighted_median([(0.0, zeros), *((v, 1) for v in values)])
    deviations = sorted([(median, zeros), *((abs(v - median), 1) for v in values)])
    return median, _weighted_median(deviations)


def find_burst(
    minutes: Mapping[int, int],
    start: int,
    *,
    config: BurstConfig | None = None,
    expected_rate: float | None = None,
    prior_peak: int = 0,
) -> Burst | None:
    """The strongest burst of one template from its per-minute counts, or None.

    ``start`` is the input's first minute (windows before the template's first record count
    as empty history). ``expected_rate`` (records per minute) and ``prior_peak`` (records in
    the busiest window) come from a baseline when there is one.
    """
    config = config or BurstConfig()
    width = max(1, config.window_minutes)
    best: Burst | None = None
    offsets = (0, width // 2) if width >= 2 else (0,)
    for offset in offsets:
        found = _scan(minutes, start - offset, width, config, expected_rate, prior_peak)
        if found is not None and (
            best is None or (found.factor, found.count) > (best.factor, best.count)
        ):
            best = found
    return best


def _scan(
    minutes: Mapping[int, int],
    origin: int,
    width: int,
    config: BurstConfig,
    expected_rate: float | None,
    prior_peak: int,
) -> Burst | None:
    buckets: dict[int, int] = {}
    for minute, count in minutes.items():
        if minute >= origin:
            index = (minute - origin) // width
            buckets[index] = buckets.get(index, 0) + count
    baseline_expected = expected_rate * width if expected_rate else 0.0
    earlier: list[float] = []
    peak = 0
    best: Burst | None = None
    bursting = 0
    for index in sorted(buckets):
        count = buckets[index]
        history = index  # windows from the input's start up to this one
        has_history = baseline_expected > 0 or (history >= config.min_history and earlier)
        if count >= config.min_count and has_history:
            median, mad = median_and_mad(earlier, history - len(earlier))
            expected = max(median, baseline_expected, 1.0)
            spread = _MAD_SCALE * mad
            z = (count - median) / spread if spread > 0 else math.inf
            ceiling = max(peak, prior_peak)
            if (
                count / expected >= config.min_factor
                and z >= config.min_z
                and count >= config.peak_margin * ceiling
            ):
                bursting += 1
                candidate = Burst(
                    start=origin + index * width,
                    end=origin + (index + 1) * width,
                    count=count,
                    expected=expected,
                    median=median,
                    baseline=baseline_expected,
                    previous_peak=ceiling,
                    history=history,
                    windows=0,
                )
                if best is None or (candidate.factor, count) > (best.factor, best.count):
                    best = candidate
        insort(earlier, float(count))
        peak = max(peak, count)
    if best is None:
        return None
    return replace(best, windows=bursting)


def _at(minute: int, zone: tzinfo | None, aware: bool) -> datetime:
    if aware:
        return datetime.fromtimestamp(minute * 60, tz=zone or UTC)
    return datetime.fromtimestamp(minute * 60)


def burst_signals(
    templates: Sequence[TemplateStats],
    start: int | None,
    *,
    baseline_counts: Mapping[str, int] | None = None,
    baseline_minutes: int = 0,
    baseline_peaks: Mapping[str, int] | None = None,
    config: BurstConfig | None = None,
) -> list[Signal]:
    """One signal per bursting template (its strongest window). ``start`` is the input's first
    epoch minute (None: the earliest minute any template has)."""
    config = config or BurstConfig()
    if start is None:
        firsts = [min(item.minutes) for item in templates if item.minutes]
        if not firsts:
            return []
        start = min(firsts)
    signals: list[Signal] = []
    for item in templates:
        if not item.minutes or item.count < config.min_count:
            continue
        rate = None
        if baseline_counts is not None and baseline_minutes > 0:
            seen = baseline_counts.get(item.template_id, 0)
            rate = seen / baseline_minutes if seen else None
        peak = (baseline_peaks or {}).get(item.template_id, 0)
        burst = find_burst(item.minutes, start, config=config, expected_rate=rate, prior_peak=peak)
        if burst is not None:
            signals.append(_signal(item, burst, config))
    return signals


def _signal(item: TemplateStats, burst: Burst, config: BurstConfig) -> Signal:
    seen = item.first_seen
    aware = seen is not None and seen.tzinfo is not None
    zone = seen.tzinfo if seen is not None else None
    begin, finish = _at(burst.start, zone, aware), _at(burst.end, zone, aware)
    width = config.window_minutes
    usual = f"{burst.expected:,.1f}" if burst.expected > 1.0 else "at most 1"
    reason = (
        f"burst: {burst.count:,} records in the {width} minutes from {begin:%Y-%m-%d %H:%M} "
        f"to {finish:%H:%M} ({burst.per_minute:,.1f}/min), {burst.factor:,.1f}x the usual "
        f"{usual} per {width} minutes ("
    )
    if burst.baseline:
        reason += f"baseline: {burst.baseline:,.1f}; "
    reason += f"median of {burst.history:,} earlier windows here: {burst.median:,.1f}"
    if burst.previous_peak:
        reason += f"; busiest earlier window: {burst.previous_peak:,}"
    reason += ")"
    if burst.windows > 1:
        reason += f"; {burst.windows} windows burst in all"
    tone = tone_of(item)
    strength = min(0.5, 0.3 + 0.1 * math.log2(burst.factor / config.min_factor))
    score = min(1.0, tone.boost + tone.weight * strength)
    if tone.severity is Severity.INFO:
        reason += f"; the template sounds like {tone.name}, so this alone is weak evidence"
    return Signal(
        kind=SignalKind.BURST,
        template_id=item.template_id,
        score=round(score, 3),
        reason=reason,
        severity=tone.severity,
        count=burst.count,
        first_seen=begin,
        last_seen=finish,
    )


def detect_bursts(
    templates: list[TemplateStats],
    collector: StatsCollector,
    *,
    baseline: Baseline | None = None,
    config: BurstConfig | None = None,
) -> list[Signal]:
    """The pipeline's detector (bind ``baseline``/``config`` with ``functools.partial``)."""
    config = config or BurstConfig()
    start = epoch_span(collector.first_seen, collector.last_seen)[0]
    if baseline is None or baseline.records == 0:
        return burst_signals(templates, start, config=config)
    resolve = collector.template_ids()
    peaks = (
        baseline.template_peaks(resolve)
        if baseline.window_minutes == config.window_minutes
        else None
    )
    return burst_signals(
        templates,
        start,
        baseline_counts=baseline.template_counts(resolve),
        baseline_minutes=baseline.minutes,
        baseline_peaks=peaks,
        config=config,
    )
