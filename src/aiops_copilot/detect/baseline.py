"""What "normal" looked like: templates, rates, peaks and sessions learned from baseline logs.

``--baseline PATH`` is mined first, with the *same* miner that then mines the input, so a
template that occurs in both lands in the same cluster. Cluster ids are stable, but the miner may
later merge a baseline cluster into another one (a position turned out to be a variable) and
that changes the template id; so the baseline keeps the clusters themselves and resolves them
only when a detector asks, after the input has been mined.

Everything here is small: a count and a peak per template, and a capped sample of sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiops_copilot.detect.stats import StatsCollector, TemplateStats, epoch_minute
from aiops_copilot.parsing.miner import Cluster

#: Width of the windows bursts are measured in, in minutes; the baseline's peaks use the same.
WINDOW_MINUTES = 5
#: Sessions kept from a baseline to fit the session model on (the first ones, in input order).
MAX_BASELINE_SESSIONS = 50_000


def epoch_span(first: datetime | None, last: datetime | None) -> tuple[int | None, int | None]:
    """An input's first and last epoch minutes (None when it had no timestamps)."""
    return (
        epoch_minute(first) if first is not None else None,
        epoch_minute(last) if last is not None else None,
    )


def peak_window(minutes: Mapping[int, int], width: int = WINDOW_MINUTES) -> int:
    """Most records in any ``width`` consecutive minutes (a sliding window over minute counts)."""
    if not minutes:
        return 0
    keys = sorted(minutes)
    best = running = low = 0
    for minute in keys:
        running += minutes[minute]
        while keys[low] <= minute - width:
            running -= minutes[keys[low]]
            low += 1
        best = max(best, running)
    return best


@dataclass(slots=True)
class Baseline:
    """Counts per cluster id from the baseline, with what is needed to resolve them later.

    ``known`` maps a cluster id to its records in the baseline; ``records`` is the baseline's
    size and ``minutes`` its time span (0 without timestamps), so ``known[cid] / minutes`` is a
    rate. ``clusters`` holds the cluster objects so that :meth:`template_counts` can follow
    merges the miner made afterwards; a baseline built by hand without them resolves cluster
    ids through the ``resolve`` mapping given to each method instead.
    """

    known: dict[int, int]
    records: int
    minutes: int = 0
    clusters: dict[int, Cluster] = field(default_factory=dict)
    #: cluster id -> most records in one window of ``window_minutes`` (burst history).
    peaks: dict[int, int] = field(default_factory=dict)
    window_minutes: int = WINDOW_MINUTES
    #: Session event sequences as cluster ids, for fitting the session model on normal data.
    sessions: list[list[int]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @classmethod
    def from_collector(
        cls,
        collector: StatsCollector,
        templates: Sequence[TemplateStats] | None = None,
        *,
        window_minutes: int = WINDOW_MINUTES,
        max_sessions: int = MAX_BASELINE_SESSIONS,
    ) -> Baseline:
        """Learn from a collector that has seen the baseline records (mined by the same miner).

        Pass ``templates`` when ``collector.finish()`` was already called: ``finish`` folds
        merged statistics into their survivors and must not run twice.
        """
        stats = list(templates) if templates is not None else collector.finish()
        by_template: dict[str, Cluster] = {}
        known: dict[int, int] = {}
        peaks: dict[int, int] = {}
        clusters: dict[int, Cluster] = {}
        sources: Counter[str] = Counter()
        for item in stats:
            cluster = item.cluster.resolve()
            by_template[cluster.template_id] = cluster
            known[cluster.cid] = known.get(cluster.cid, 0) + item.count
            peaks[cluster.cid] = max(peaks.get(cluster.cid, 0), peak_window(item.minutes))
            clusters[cluster.cid] = cluster
            sources.update(item.sources)
        # Session events name the clusters they were mined into, possibly merged away since.
        survivor: dict[int, int] = {}
        for cid, template_id in collector.template_ids().items():
            target = by_template.get(template_id)
            if target is not None:
                survivor[cid] = target.cid
        sessions: list[list[int]] = []
        for trace in collector.sessions.values():
            if len(sessions) >= max_sessions:
                break
            events = [survivor[cid] for cid in trace.events if cid in survivor]
            if events:
                sessions.append(events)
        span = 0
        if collector.first_seen is not None and collector.last_seen is not None:
            seconds = (collector.last_seen - collector.first_seen).total_seconds()
            span = int(seconds // 60) + 1
        return cls(
            known=known,
            records=collector.records,
            minutes=span,
            clusters=clusters,
            peaks=peaks,
            window_minutes=window_minutes,
            sessions=sessions,
            sources=sorted(s for s in sources if s != "(other)"),
        )

    def _template_of(self, cid: int, resolve: Mapping[int, str] | None) -> str | None:
        cluster = self.clusters.get(cid)
        if cluster is not None:
            return cluster.resolve().template_id
        return resolve.get(cid) if resolve is not None else None

    def _by_template(
        self, values: Mapping[int, int], resolve: Mapping[int, str] | None, *, add: bool
    ) -> dict[str, int]:
        result: dict[str, int] = {}
        for cid, value in values.items():
            template_id = self._template_of(cid, resolve)
            if template_id is not None:
                have = result.get(template_id, 0)
                result[template_id] = have + value if add else max(have, value)
        return result

    def template_counts(self, resolve: Mapping[int, str] | None = None) -> dict[str, int]:
        """Baseline records per *current* template id (clusters merged since are summed)."""
        return self._by_template(self.known, resolve, add=True)

    def template_peaks(self, resolve: Mapping[int, str] | None = None) -> dict[str, int]:
        """Most baseline records in one window, per current template id."""
        return self._by_template(self.peaks, resolve, add=False)

    def session_sequences(self, resolve: Mapping[int, str] | None = None) -> list[list[str]]:
        """The baseline's sessions as current template ids."""
        result: list[list[str]] = []
        for events in self.sessions:
            sequence = [t for t in (self._template_of(cid, resolve) for cid in events) if t]
            if sequence:
                result.append(sequence)
        return result

    def rate_per_minute(self, count: int) -> float | None:
        """A baseline count as records per minute, or None when the baseline had no times."""
        return count / self.minutes if self.minutes > 0 else None
