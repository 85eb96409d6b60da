"""Helpers of the Dask engine tests: one analysis run both ways, and what must be equal.

``single`` is the single-process pipeline exactly as ``aiops analyze`` runs it (collect, then
conclude); ``partitioned`` is the Dask engine's collect step on a real client, or, with
``client=None``, the same planning, worker function and merge run in this process (fast, no
cluster: for checking many cut points). Both then run the same ``conclude``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aiops_copilot.analysis import AnalysisOptions, collect, conclude, default_detectors
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.distributed.engine import collect_distributed
from aiops_copilot.distributed.merge import PartitionMerger
from aiops_copilot.distributed.plan import plan_partitions
from aiops_copilot.distributed.task import PartitionResult, mine_partition
from aiops_copilot.ingest.reader import IngestRun, ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.models import AnalysisResult
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.report.incidents_json import render_json

TESTS = Path(__file__).resolve().parents[1]
LOGHUB = TESTS / "data" / "loghub2k"
EXAMPLES = TESTS.parent / "examples"
FORMATS = TESTS / "data" / "formats"
#: Logs that ship with the project (tests/data, examples): safe to cache analyses of.
SHIPPED = TESTS.parent


@cache
def knowledge() -> KnowledgeBase:
    return load_knowledge([])


@dataclass
class Outcome:
    result: AnalysisResult
    miner: TemplateMiner
    collector: StatsCollector
    run: IngestRun
    stats: list[TemplateStats]


def _conclude(run: IngestRun, collector: StatsCollector, miner: TemplateMiner) -> Outcome:
    options = AnalysisOptions(detectors=default_detectors())
    stats = collector.finish()
    result = conclude(run, collector, miner, knowledge(), options, templates=stats)
    return Outcome(result, miner, collector, run, stats)


def single(
    paths: Sequence[Path | str], options: ReadOptions | None = None, *, cached: bool = False
) -> Outcome:
    """The single-process analysis; ``cached``: computed once per test session (for the
    shipped samples, which several tests compare against)."""
    key = (tuple(str(p) for p in paths), repr(options))
    if cached and key in _SINGLE:
        return _SINGLE[key]
    run = open_inputs([str(p) for p in paths])
    miner = TemplateMiner()
    collector = collect(iter_records(run, options or ReadOptions()), miner)
    outcome = _conclude(run, collector, miner)
    if cached:
        _SINGLE[key] = outcome
    return outcome


_SINGLE: dict[tuple[tuple[str, ...], str], Outcome] = {}


def partitioned(
    paths: Sequence[Path | str],
    client: Any | None,
    *,
    partition_bytes: int,
    options: ReadOptions | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> Outcome:
    run = open_inputs([str(p) for p in paths])
    miner = TemplateMiner()
    options = options or ReadOptions()
    if client is not None:
        collector = collect_distributed(
            run, options, miner, client, partition_bytes=partition_bytes, on_result=on_result
        )
    else:
        partitions = plan_partitions(run, options, partition_bytes)
        collector = StatsCollector()
        merger = PartitionMerger(run, miner, collector, len(partitions))
        # Backwards: the merge must put them in input order whatever order they come in.
        for partition in reversed(partitions):
            merger.add(mine_partition(partition, options, miner.config))
        merger.finish()
    return _conclude(run, collector, miner)


def must_match(outcome: Outcome) -> dict[str, Any]:
    """Everything a distributed run must reproduce exactly: incidents (ids are fingerprint
    hashes), their domains, severities, counts and templates; every template id and count;
    the per-source summary; the detection counts."""
    report = json.loads(render_json(outcome.result))
    return {
        "incidents": [
            (i["id"], i["fingerprint"], i["domain"], i["severity"], i["count"], i["template_ids"])
            for i in report["incidents"]
        ],
        "templates": sorted((t.template_id, t.count) for t in outcome.result.templates),
        "summary": report["summary"],
        "records": outcome.collector.records,
        "sessions": {
            trace.key: [outcome.collector.template_ids()[cid] for cid in trace.events]
            for trace in outcome.collector.sessions.values()
        },
    }


def first_lines(outcome: Outcome) -> dict[str, list[tuple[str, int, int]]]:
    """Each template's first evidence lines (kept in input order by both engines)."""
    return {
        stats.template_id: [(ref.source, ref.line_no, ref.end_line) for ref in stats.first_lines]
        for stats in outcome.stats
    }
