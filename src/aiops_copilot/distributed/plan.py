"""Cut a run's sources into partitions, in input order.

* Standard input, ``.bz2`` files, small files and single-member ``.gz`` files are one
  partition each: the worker reads them exactly as a single-process run would.
* A plain file larger than ``partition_bytes`` is cut into byte ranges, a multi-member
  ``.gz`` into runs of whole members (see :mod:`cuts` for where a cut may fall). The driver
  reads the file's head once to detect its format, both to know what a record start looks
  like and to hand the format to every worker, which fits the same parser on the same head.

Paths are made absolute for the workers (which may run in another folder); the names shown
and cited stay as the user typed them. Workers on other machines need the same paths.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from itertools import pairwise

from loguru import logger

from aiops_copilot.distributed.cuts import gzip_cuts, plain_cuts, record_start_rule
from aiops_copilot.distributed.task import Partition, head_sample
from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.reader import IngestRun, ReadOptions
from aiops_copilot.ingest.sources import Source

__all__ = ["DEFAULT_PARTITION_BYTES", "plan_partitions"]

DEFAULT_PARTITION_BYTES = 64 * 1024 * 1024

#: The last part of a split file reads to the end, as a single-process run does (a file that
#: grew since it was listed is read in full).
_TO_THE_END = sys.maxsize


def plan_partitions(
    run: IngestRun, options: ReadOptions, partition_bytes: int = DEFAULT_PARTITION_BYTES
) -> list[Partition]:
    """The run's partitions in input order (a source's parts one after another)."""
    if partition_bytes < 1:
        raise ValueError("partition size must be positive")
    partitions: list[Partition] = []
    for source_index, source in enumerate(run.sources):
        if source.path is not None:
            source = replace(source, path=source.path.absolute())
        spans, fmt, confidence = _split(source, options, partition_bytes)
        if not spans:
            size = source.size if source.compression is None else None
            partitions.append(Partition(len(partitions), source_index, source, size=size))
            continue
        for part, (start, end) in enumerate(spans):
            last = part == len(spans) - 1
            partitions.append(
                Partition(
                    index=len(partitions),
                    source_index=source_index,
                    source=source,
                    part=part,
                    span=(start, _TO_THE_END if last else end),
                    format=fmt,
                    confidence=confidence,
                    size=None if source.compression else end - start,
                )
            )
        logger.debug("{}: {} partitions", source.name, len(spans))
    return partitions


def _split(
    source: Source, options: ReadOptions, every: int
) -> tuple[list[tuple[int, int]], str | None, float]:
    """Spans of a source worth cutting (empty: read it whole), its format and confidence."""
    path, size = source.path, source.size
    if path is None or size is None or source.compression == "bz2":
        return [], None, 0.0
    # A .gz is worth a look when it may inflate past one partition (logs compress 8:1 or
    # more); the look is cheap unless the file really has several members.
    if size <= (every // 8 if source.compression == "gz" else every):
        return [], None, 0.0
    if options.content_only:
        fmt, confidence, parser, multiline = "content", 1.0, None, False
    else:
        sample = head_sample(source, options)
        if not sample:
            return [], None, 0.0
        detection = detect_format(sample, forced=options.forced_format)
        fmt, confidence = detection.spec.name, detection.confidence
        parser, multiline = detection.parser, detection.spec.multiline
    starts = record_start_rule(parser, multiline=multiline)
    limit = options.max_line_bytes
    try:
        if source.compression == "gz":
            spans = gzip_cuts(path, every, starts, max_line_bytes=limit) or []
        else:
            cuts = [*plain_cuts(path, size, every, starts, max_line_bytes=limit), size]
            spans = [(a, b) for a, b in pairwise(cuts) if b > a]
    except OSError:
        return [], None, 0.0  # the worker reading it whole reports the problem
    return (spans if len(spans) > 1 else []), fmt, confidence
