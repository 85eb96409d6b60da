"""Fold partition results into the run's one miner and one collector, in input order.

Results arrive in whatever order the workers finish; :class:`PartitionMerger` holds the early
ones back and absorbs each as soon as every partition before it is in. Input order is what
makes the merge deterministic and equal to a single-process run:

* the miner absorbs each partition's distinct sequences in order of first appearance, so new
  sequences reach it in the order a line-by-line run would meet them, and its templates,
  template ids and counts come out the same (:meth:`TemplateMiner.absorb`);
* the collector absorbs each partition's statistics with the local sequence keys mapped to
  the clusters the miner gave them, record indexes after the records before, and line
  numbers moved down by the lines of the same source's earlier parts
  (:meth:`StatsCollector.absorb_partial`);
* each source's report adds up its parts' lines, bytes and damage counts.

Held-back results are the only memory that grows with the run; a run waits on its slowest
early partition at worst, and partitions are submitted in input order so that is rare.
"""

from __future__ import annotations

from dataclasses import replace

from loguru import logger

from aiops_copilot.detect.stats import StatsCollector
from aiops_copilot.distributed.task import PartitionResult
from aiops_copilot.ingest.reader import IngestRun, SourceReport
from aiops_copilot.parsing.miner import TemplateMiner

__all__ = ["PartitionMerger"]


class PartitionMerger:
    """Absorbs :class:`PartitionResult` objects into ``miner`` and ``collector`` in input order
    and fills ``run.reports`` (one per source, in source order) once all are in."""

    def __init__(
        self, run: IngestRun, miner: TemplateMiner, collector: StatsCollector, partitions: int
    ) -> None:
        self.run = run
        self.miner = miner
        self.collector = collector
        self.total = partitions
        self.merged = 0
        self._waiting: dict[int, PartitionResult] = {}
        self._lines: dict[int, int] = {}
        self._reports: dict[int, SourceReport] = {}

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def add(self, result: PartitionResult) -> int:
        """Take one result; absorb it and any held-back ones it unblocks. Returns how many
        partitions were absorbed now."""
        if result.index < self.merged or result.index in self._waiting:
            return 0  # a retried task that finished twice: the first answer stands
        self._waiting[result.index] = result
        absorbed = 0
        while self.merged in self._waiting:
            self._absorb(self._waiting.pop(self.merged))
            self.merged += 1
            absorbed += 1
        return absorbed

    def finish(self) -> None:
        """Check that every partition came in and publish the per-source reports."""
        if self.merged != self.total:
            raise RuntimeError(f"only {self.merged} of {self.total} partitions were merged")
        self.run.reports.extend(self._reports[i] for i in sorted(self._reports))
        for report in self.run.reports:
            if report.stats.error:
                logger.warning("{}: {}", report.source.name, report.stats.error)

    def _absorb(self, result: PartitionResult) -> None:
        absorb = self.miner.absorb
        clusters = [
            absorb(
                tokens,
                literal_from,
                message=example,
                count=stats.count,
                first_seen=stats.first_seen,
                last_seen=stats.last_seen,
            )
            for (tokens, literal_from, example), stats in zip(
                result.sequences, result.stats.templates, strict=True
            )
        ]
        source = result.source_index
        before = self._lines.get(source, 0)
        self.collector.absorb_partial(result.stats, clusters, line_offset=before)
        self._lines[source] = before + result.lines
        self._add_report(source, result.report, logged=result.worker == "driver")

    def _add_report(self, source: int, part: SourceReport, *, logged: bool) -> None:
        report = self._reports.get(source)
        if report is None:
            # A copy: the parts' own reports stay what their workers said (progress reads
            # them). The source as the user named it (the workers were given absolute paths).
            report = replace(part, source=self.run.sources[source], stats=replace(part.stats))
            self._reports[source] = report
            if logged:  # read in this process (stdin): the reader said it already
                return
            logger.info(
                "{}: format {} (confidence {:.2f})",
                report.source.name,
                report.format,
                report.confidence,
            )
            return
        stats, more = report.stats, part.stats
        if more.error and not stats.error:
            # The part counts from its own first line: say where the damage is in the file.
            stats.error = f"{more.error} (in the part from line {stats.lines + 1})"
        stats.lines += more.lines
        stats.bytes += more.bytes
        stats.invalid_utf8_lines += more.invalid_utf8_lines
        stats.cut_lines += more.cut_lines
        stats.truncated = stats.truncated or more.truncated
        report.records += part.records
