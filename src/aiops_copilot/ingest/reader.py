"""From what the user named to a stream of records: expand, read, detect, fold.

This is the one place that wires the ingestion pieces together, so the CLI, and later the
watcher and the API, all read sources the same way. Every source gets a :class:`SourceReport`
(format, confidence, counts, problems) that is filled in while its records stream past.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from loguru import logger

from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.ingest.reading import ReadStats, read_lines
from aiops_copilot.ingest.sources import Skip, Source, expand_inputs
from aiops_copilot.models import LogRecord


@dataclass
class SourceReport:
    """What happened to one source."""

    source: Source
    stats: ReadStats = field(default_factory=ReadStats)
    format: str = ""
    confidence: float = 0.0
    records: int = 0


@dataclass
class ReadOptions:
    max_line_bytes: int = 65536
    sample_lines: int = 200
    forced_format: str | None = None
    content_only: bool = False


@dataclass
class IngestRun:
    """The sources of one run and what was skipped; filled in as records are consumed."""

    sources: list[Source]
    skipped: list[Skip]
    reports: list[SourceReport] = field(default_factory=list)

    @property
    def total_records(self) -> int:
        return sum(r.records for r in self.reports)


def open_inputs(inputs: Sequence[str], *, stdin: BinaryIO | None = None) -> IngestRun:
    """Expand paths, folders, globs and ``-`` (stdin) into sources; problems become skips."""
    if stdin is None and "-" in inputs:
        stdin = sys.stdin.buffer
    sources, skipped = expand_inputs(inputs, stdin=stdin)
    for skip in skipped:
        logger.warning("skipped {}: {}", skip.target, skip.reason)
    return IngestRun(sources=sources, skipped=skipped)


def iter_records(
    run: IngestRun,
    options: ReadOptions,
    *,
    stdin: BinaryIO | None = None,
    on_bytes: Callable[[Source, int], None] | None = None,
) -> Iterator[LogRecord]:
    """Records of every source, in order; memory stays bounded whatever the input size."""
    for source in run.sources:
        report = SourceReport(source=source)
        run.reports.append(report)
        yield from _source_records(source, report, options, stdin=stdin, on_bytes=on_bytes)
        if report.stats.error:
            logger.warning("{}: {}", source.name, report.stats.error)


def _source_records(
    source: Source,
    report: SourceReport,
    options: ReadOptions,
    *,
    stdin: BinaryIO | None,
    on_bytes: Callable[[Source, int], None] | None,
) -> Iterator[LogRecord]:
    lines = read_lines(source, report.stats, max_line_bytes=options.max_line_bytes, stdin=stdin)
    if on_bytes is not None:
        lines = _counting(lines, source, report.stats, on_bytes)
    return counted(report, _parsed(source, report, options, lines))


def _parsed(
    source: Source, report: SourceReport, options: ReadOptions, lines: Iterator[tuple[int, str]]
) -> Iterator[LogRecord]:
    """The source's records; its format lands in ``report`` once the first is asked for."""
    if options.content_only:
        report.format, report.confidence = "content", 1.0
        yield from content_records(lines, source.name)
        return
    sample = list(itertools.islice(lines, options.sample_lines))
    detection = detect_format([text for _, text in sample], forced=options.forced_format)
    report.format = detection.spec.name
    report.confidence = detection.confidence
    logger.info("{}: format {} (confidence {:.2f})", source.name, report.format, report.confidence)
    yield from fold_records(
        itertools.chain(sample, lines),
        detection.parser,
        multiline=detection.spec.multiline,
        source=source.name,
    )


def content_records(lines: Iterable[tuple[int, str]], source: str) -> Iterator[LogRecord]:
    """One record per physical line, the whole line its message (``--content-only``).

    Shared with the Dask workers (:mod:`aiops_copilot.distributed.task`) so a part of a split
    source yields exactly the records a single-process run reads from the same lines.
    """
    for number, text in lines:
        yield LogRecord(
            message=text, raw=text, format="content", source=source, line_no=number, end_line=number
        )


def counted(report: SourceReport, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
    """``records`` unchanged, each one counted in ``report`` as it streams past.

    Shared with the Dask workers, whose report must count records as a local run's does.
    """
    for record in records:
        report.records += 1
        yield record


def _counting(
    lines: Iterator[tuple[int, str]],
    source: Source,
    stats: ReadStats,
    on_bytes: Callable[[Source, int], None],
) -> Iterator[tuple[int, str]]:
    last = 0
    for item in lines:
        if stats.bytes - last >= 65536:
            on_bytes(source, stats.bytes - last)
            last = stats.bytes
        yield item
    on_bytes(source, stats.bytes - last)
