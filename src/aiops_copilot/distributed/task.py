"""The work of one partition: read, fold, tokenize and count; run in a Dask worker process.

Everything per line happens here; the driver only sees a summary whose size depends on how
many *distinct* token sequences the partition holds, not on its lines:

* each distinct sequence once, in order of first appearance: its tokens, where its literal
  tokens begin and its first message (the example a new template keeps);
* a :class:`~aiops_copilot.detect.stats.PartialStats` of a collector fed one stand-in cluster
  per sequence (``cid`` = the sequence's local index): counts, levels, minutes, hosts,
  evidence lines, sessions, all keyed by sequence;
* what reading the partition gave: physical lines, bytes, damage, format, records.

The miner itself never runs here: templates depend on the order in which distinct sequences
first appear, which only the driver, absorbing partitions in input order, can know.
:func:`mine_partition` is a plain top-level function with picklable arguments, so any worker
that can import this package and read the same paths can run it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, cast

from loguru import logger

from aiops_copilot.detect.stats import PartialStats, StatsCollector
from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.ingest.reader import (
    IngestRun,
    ReadOptions,
    SourceReport,
    content_records,
    counted,
    iter_records,
)
from aiops_copilot.ingest.reading import ReadStats, read_lines
from aiops_copilot.ingest.sources import Source
from aiops_copilot.models import LogRecord
from aiops_copilot.parsing.miner import Cluster, MinerConfig, TemplateMiner
from aiops_copilot.parsing.record_mining import record_tokens

__all__ = ["Partition", "PartitionResult", "mine_partition"]

#: One distinct token sequence: tokens, index of its first literal token, first message.
SequenceSummary = tuple[list[str], int, str]


@dataclass(frozen=True, slots=True)
class Partition:
    """One unit of work: a whole source, or a byte range of one.

    ``index`` is the partition's place in the run (the merge order); ``part`` its place in
    its source. ``span`` is ``None`` for a whole source, else ``(start, end)`` byte offsets
    (compressed offsets of whole members for a ``.gz``). A split source was looked at by the
    driver, which passes the format it detected from the source's head (``format``,
    ``confidence``); a whole source detects its own, as a single-process run does.
    ``size`` is the uncompressed size when known (for progress).
    """

    index: int
    source_index: int
    source: Source
    part: int = 0
    span: tuple[int, int] | None = None
    format: str | None = None
    confidence: float = 0.0
    size: int | None = None


@dataclass(slots=True)
class PartitionResult:
    """What a worker sends back for one partition (pickled: keep it small)."""

    index: int
    source_index: int
    report: SourceReport
    sequences: list[SequenceSummary]
    stats: PartialStats
    #: The worker's address (``driver`` when run in the driver) and the seconds it took.
    worker: str
    seconds: float

    @property
    def lines(self) -> int:
        return self.report.stats.lines


class _Slot:
    """Stands in for a cluster while a partition's statistics are collected: the collector
    needs only a ``cid`` (here the sequence's local index) while it observes."""

    __slots__ = ("cid",)

    def __init__(self, cid: int) -> None:
        self.cid = cid


@lru_cache(maxsize=4)
def _tokenizer(config: MinerConfig) -> TemplateMiner:
    """A miner used only for :meth:`TemplateMiner.tokenize` (its masker and token limit)."""
    return TemplateMiner(config)


def mine_partition(
    partition: Partition,
    options: ReadOptions,
    config: MinerConfig,
    stdin: BinaryIO | None = None,
) -> PartitionResult:
    """Read one partition and summarise it (see the module doc). Never raises on bad data:
    damage ends up in the report, as in a single-process run."""
    started = time.perf_counter()
    worker = _worker_address()
    if worker != "driver":
        # The driver reports formats and damage once the parts are merged; a worker that
        # logged too would print every message once per partition.
        logger.disable("aiops_copilot")
    tokenizer = _tokenizer(config)
    example_chars = config.example_chars
    collector = StatsCollector()
    observe = collector.observe
    known: dict[tuple[str, ...], int] = {}
    slots: list[Cluster] = []
    sequences: list[SequenceSummary] = []
    report, records = _records(partition, options, stdin)
    for record in records:
        tokens, literal_from = record_tokens(tokenizer, record)
        key = tuple(tokens)
        local = known.get(key)
        if local is None:
            local = known[key] = len(slots)
            slots.append(cast(Cluster, _Slot(local)))
            sequences.append((tokens, literal_from, record.message[:example_chars]))
        observe(record, slots[local])
    return PartitionResult(
        index=partition.index,
        source_index=partition.source_index,
        report=report(),
        sequences=sequences,
        stats=collector.partial(),
        worker=worker,
        seconds=time.perf_counter() - started,
    )


def _records(
    partition: Partition, options: ReadOptions, stdin: BinaryIO | None
) -> tuple[Callable[[], SourceReport], Iterator[LogRecord]]:
    """The partition's records, and the report they fill in as they stream past (complete
    once the records are consumed)."""
    source = partition.source
    if partition.span is None:
        # A whole source reads exactly as a single-process run reads it.
        run = IngestRun(sources=[source], skipped=[])
        records = iter_records(run, options, stdin=stdin)
        return (lambda: run.reports[0] if run.reports else SourceReport(source)), records
    report = SourceReport(
        source=source, format=partition.format or "", confidence=partition.confidence
    )
    lines = read_lines(
        source, report.stats, max_line_bytes=options.max_line_bytes, span=partition.span
    )
    return (lambda: report), counted(report, _fold(partition, options, lines))


def _fold(
    partition: Partition, options: ReadOptions, lines: Iterator[tuple[int, str]]
) -> Iterator[LogRecord]:
    source = partition.source
    if options.content_only:
        yield from content_records(lines, source.name)
        return
    # The parser is fitted on the source's head, as the driver's detection was, so a part in
    # the middle parses exactly as the same lines would in a single-process run.
    detection = detect_format(head_sample(source, options), forced=partition.format)
    yield from fold_records(
        lines, detection.parser, multiline=detection.spec.multiline, source=source.name
    )


def head_sample(source: Source, options: ReadOptions) -> list[str]:
    """The first lines of a source, as format detection sees them."""
    stats = ReadStats()
    lines = read_lines(source, stats, max_line_bytes=options.max_line_bytes)
    try:
        return [text for _, text in itertools.islice(lines, options.sample_lines)]
    finally:
        close = getattr(lines, "close", None)  # a generator: close the file now
        if close is not None:
            close()


def _worker_address() -> str:
    try:
        from distributed import get_worker
    except ImportError:  # run in the driver without dask (stdin)
        return "driver"
    try:
        return str(get_worker().address)
    except ValueError:
        return "driver"
