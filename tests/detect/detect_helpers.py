"""Build per-template statistics from plain lines, the way the pipeline does, for detector tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.models import Level, LogRecord
from aiops_copilot.parsing.miner import TemplateMiner

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    message: str
    level: Level = Level.INFO
    at: datetime | None = None
    source: str = "app.log"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def mine(
    lines: Iterable[Line], miner: TemplateMiner | None = None
) -> tuple[StatsCollector, list[TemplateStats]]:
    """Mine the lines with ``miner`` (a new one by default) into a finished collector."""
    miner = TemplateMiner() if miner is None else miner
    collector = StatsCollector()
    for number, line in enumerate(lines, start=1):
        record = LogRecord(
            message=line.message,
            timestamp=line.at,
            level=line.level,
            source=line.source,
            line_no=number,
            end_line=number,
            raw=line.message,
        )
        collector.observe(record, miner.add(line.message, timestamp=line.at))
    return collector, collector.finish()


def by_template(templates: Iterable[TemplateStats], text: str) -> TemplateStats:
    """The one template whose text contains ``text``."""
    found = [t for t in templates if text in t.template]
    assert len(found) == 1, [t.template for t in templates]
    return found[0]
