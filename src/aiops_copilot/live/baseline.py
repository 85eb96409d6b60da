"""The live pipeline's sense of "normal": earlier windows, folded into one bounded baseline.

A one-shot analysis compares the input with itself (or with ``--baseline`` files). A watcher
sees the input a window at a time, so each window is compared with the windows before it:
a template the watcher has seen for an hour is not new, and a rate that was 2 a minute all
morning and is 200 now is a burst. Everything learned is keyed by cluster and capped:

* counts and peaks: one entry per cluster the miner still holds (clusters it evicted or merged
  away are dropped or re-keyed to their survivor), so the size follows the miner's own cap;
* minutes: the sum of each window's log-time span, so an idle night does not dilute a rate;
* sessions: the most recent ``max_sessions`` only.

An optional seed (``detect.baseline`` files, mined before the first window) is simply the
first thing folded in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.parsing.miner import Cluster, TemplateMiner

#: Recent sessions kept to fit the session model on.
MAX_SESSIONS = 20_000


class RollingBaseline:
    """Earlier windows as one :class:`Baseline`, bounded whatever the watcher's uptime."""

    def __init__(self, *, max_sessions: int = MAX_SESSIONS) -> None:
        self._known: dict[int, int] = {}
        self._peaks: dict[int, int] = {}
        self._clusters: dict[int, Cluster] = {}
        self._sessions: deque[list[int]] = deque(maxlen=max_sessions)
        self._sources: set[str] = set()
        self.records = 0
        self.minutes = 0
        self.windows = 0

    def __len__(self) -> int:
        return len(self._known)

    def add(self, baseline: Baseline) -> None:
        """Fold one window's (or a seed's) baseline in."""
        for cid, count in baseline.known.items():
            cluster = baseline.clusters.get(cid)
            if cluster is None:
                continue
            key = self._keep(cluster)
            self._known[key] = self._known.get(key, 0) + count
            peak = baseline.peaks.get(cid, 0)
            if peak > self._peaks.get(key, 0):
                self._peaks[key] = peak
        self._sessions.extend(baseline.sessions)
        self._sources.update(baseline.sources[:100])
        self.records += baseline.records
        self.minutes += baseline.minutes
        self.windows += 1

    def add_window(self, collector: StatsCollector, templates: Sequence[TemplateStats]) -> None:
        """Learn from a window that has been analysed (``templates`` is its finished stats)."""
        self.add(
            Baseline.from_collector(collector, templates, max_sessions=self._sessions.maxlen or 0)
        )

    def _keep(self, cluster: Cluster) -> int:
        survivor = cluster.resolve()
        self._clusters[survivor.cid] = survivor
        return survivor.cid

    def prune(self, miner: TemplateMiner) -> None:
        """Re-key merged clusters to their survivors and forget the ones the miner evicted,
        so the baseline never holds more clusters than the miner does."""
        known: dict[int, int] = {}
        peaks: dict[int, int] = {}
        clusters: dict[int, Cluster] = {}
        for cid, count in self._known.items():
            survivor = self._clusters[cid].resolve()
            if miner.get(survivor.cid) is not survivor:
                continue
            known[survivor.cid] = known.get(survivor.cid, 0) + count
            peaks[survivor.cid] = max(peaks.get(survivor.cid, 0), self._peaks.get(cid, 0))
            clusters[survivor.cid] = survivor
        self._known, self._peaks, self._clusters = known, peaks, clusters

    def snapshot(self) -> Baseline | None:
        """The baseline the next window's detectors compare against (None before any window).

        Dictionaries are copied: the detectors of one window must not see the next one's
        updates if a window ever runs while another is being folded in.
        """
        if self.records == 0:
            return None
        return Baseline(
            known=dict(self._known),
            records=self.records,
            minutes=self.minutes,
            clusters=dict(self._clusters),
            peaks=dict(self._peaks),
            sessions=list(self._sessions),
            sources=sorted(self._sources),
        )
