"""Putting a consumer together: the live pipeline, the group's shared miner, the decoder and
the loop, wired to each other. The command and the tests build it the same way.

The pieces call each other, so they are made in order and joined by two small closures: the
pipeline stores each window through the worker (its ledger of messages goes in the same
transaction) and the shared miner hands the worker what other consumers mined. The replica
is synchronised with the group's journal before the first fetch.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aiops_copilot.live.pipeline import IncidentHook, LivePipeline
from aiops_copilot.models import AnalysisResult
from aiops_copilot.stream.broker import ConsumerOptions, open_consumer
from aiops_copilot.stream.payloads import PayloadDecoder
from aiops_copilot.stream.shared_miner import Replayed, SharedMiner
from aiops_copilot.stream.urls import BrokerURL
from aiops_copilot.stream.worker import StreamWorker, WorkerLimits

if TYPE_CHECKING:
    from aiops_copilot.config import Settings
    from aiops_copilot.knowledge.loader import KnowledgeBase
    from aiops_copilot.store.sql import Store, StoredRun


def assemble(
    settings: Settings,
    url: BrokerURL,
    options: ConsumerOptions,
    limits: WorkerLimits,
    *,
    kb: KnowledgeBase | None = None,
    window: float = 60.0,
    max_window_records: int = 50_000,
    on_incident: IncidentHook | None = None,
) -> tuple[StreamWorker, LivePipeline]:
    """A ready worker and its pipeline (the caller closes both: worker first). StoreError
    when the store cannot be opened or read; ValueError when it is disabled."""
    if not settings.store.enabled:
        raise ValueError(
            "aiops consume needs the store (store.enabled is off): the ledger is there"
        )
    worker: StreamWorker | None = None

    def recorder(store: Store, result: AnalysisResult, opened: datetime | None) -> StoredRun:
        assert worker is not None
        return worker.record(store, result, opened)

    def learn(replayed: Replayed) -> None:
        assert worker is not None
        worker.learn(replayed)

    pipeline = LivePipeline(
        settings,
        kb=kb,
        window_seconds=window,
        max_window_records=max_window_records,
        on_incident=on_incident,
        command="consume",
        recorder=recorder,
    )
    try:
        store = pipeline.store
        assert store is not None  # enabled, checked above
        shared = SharedMiner(
            store,
            options.group,
            pipeline.miner.config,
            on_reload=pipeline.replace_miner,
            on_replay=learn,
        )
        decoder = PayloadDecoder(
            max_line_bytes=settings.ingest.max_line_bytes, forced_format=settings.ingest.format
        )
        worker = StreamWorker(
            lambda: open_consumer(url, options), pipeline, shared, decoder, limits
        )
        shared.sync()
    except BaseException:
        pipeline.close()
        raise
    return worker, pipeline
