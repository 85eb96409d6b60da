"""What one running server holds: the store, the live pipeline and its ingest queue, the
syslog listeners, the notifier, the upload pool, the metrics — opened together at start-up
and closed together, in order, at shutdown (listeners first, so nothing arrives after the
queue has drained; the pipeline's final window last but one; the store last)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from fastapi import Request
from loguru import logger

from aiops_copilot.api.decode.common import Batch, Builder, FormatMemory
from aiops_copilot.api.metrics import ApiMetrics, StateReader
from aiops_copilot.api.options import ServeOptions
from aiops_copilot.api.queries import open_counts
from aiops_copilot.api.queue import IngestQueue
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.models import LogRecord
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.sql import Store

#: Seconds a syslog receiver waits for room in a full queue before counting a drop.
SYSLOG_WAIT = 5.0


class ServerState:
    """Everything the handlers reach through ``request.app.state.server``."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.settings = options.settings
        self.metrics = ApiMetrics()
        self.formats = FormatMemory()
        self.kb: KnowledgeBase | None = None
        self.store: Store | None = None
        self.pipeline: Any = None
        self.queue: IngestQueue | None = None
        self.notifier: Any = None
        self.syslog_servers: list[Any] = []
        self.analyses = ThreadPoolExecutor(
            max_workers=options.analyze_workers, thread_name_prefix="aiops-analyze"
        )
        self._analyses_waiting = threading.BoundedSemaphore(
            options.analyze_workers + options.analyze_waiting
        )
        self._resources = ExitStack()
        self.started = False
        self.metrics.watch(
            StateReader(
                queue=lambda: self.queue,
                pipeline=lambda: self.pipeline,
                open_incidents=self._open_counts,
            )
        )

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Open the store, start the pipeline's worker and the syslog listeners (once: the
        CLI starts the state before the server, to report problems in one line)."""
        if self.started:
            return
        self.started = True
        settings = self.settings
        try:
            self.kb = load_knowledge([])
            for problem in self.kb.problems:
                logger.warning("knowledge base: {}", problem)
            if settings.store.enabled:
                self.store = Store(settings.store.url, timeout=settings.store.timeout)
                self._resources.callback(self.store.close)
            self._start_notifier()
            self._start_pipeline()
            for url in self.options.syslog:
                self._start_syslog(url)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Close in the reverse order of :meth:`start`; accepted records are analysed."""
        self._resources.close()
        self.analyses.shutdown(wait=True, cancel_futures=True)

    def _start_notifier(self) -> None:
        from aiops_copilot.notify import Notifier

        notifier = Notifier.from_settings(self.settings)
        if notifier.configured:
            self.notifier = notifier
            self._resources.callback(notifier.close)

    def _start_pipeline(self) -> None:
        from aiops_copilot.live.pipeline import LivePipeline

        options = self.options
        pipeline = LivePipeline(
            self.settings,
            kb=self.kb,
            window_seconds=options.window_seconds,
            max_window_records=options.max_window_records,
            on_incident=self.notifier.notify if self.notifier is not None else None,
            on_window=self.metrics.on_window,
            command="serve",
        )
        self.pipeline = pipeline
        queue = IngestQueue(pipeline, options.queue_records, max_sources=options.max_sources)
        queue.start()
        self.queue = queue
        # Registered after the pipeline: stopping the queue drains it and closes the
        # pipeline (its final window) before anything the pipeline needs is closed.
        self._resources.callback(queue.stop)

    def _start_syslog(self, url: str) -> None:
        from aiops_copilot.live.syslog import SyslogServer

        server = SyslogServer(url, self._syslog_sink, on_malformed=self._syslog_malformed)
        server.start()
        self._resources.callback(server.stop)
        self.syslog_servers.append(server)
        logger.info("syslog: listening on {}", url)

    def _syslog_malformed(self, count: int) -> None:
        self.metrics.skipped.labels(endpoint="syslog", reason="malformed").inc(count)
        if self.pipeline is not None:
            self.pipeline.note_parse_errors(count)

    def _syslog_sink(self, records: list[LogRecord]) -> None:
        queue = self.queue
        if queue is None or not records:
            return
        batch = Batch(source=records[0].source or "syslog", records=records, lines=0)
        if queue.offer_wait([batch], SYSLOG_WAIT):
            self.metrics.ingested.labels(endpoint="syslog").inc(len(records))
        else:
            self.metrics.rejected.labels(endpoint="syslog", reason="queue_full").inc()
            self.metrics.rejected_records.labels(endpoint="syslog").inc(len(records))
            logger.warning("syslog: ingest queue full, {} records dropped", len(records))

    # -- for the handlers ----------------------------------------------------------------

    def builder(self, forced_format: str | None = None) -> Builder:
        return Builder(
            self.formats,
            max_line_bytes=self.settings.ingest.max_line_bytes,
            forced_format=forced_format or self.settings.ingest.format,
        )

    def try_reserve_analysis(self) -> bool:
        """Room for one more upload analysis (running or waiting)?"""
        return self._analyses_waiting.acquire(blocking=False)

    def release_analysis(self) -> None:
        self._analyses_waiting.release()

    def _open_counts(self) -> dict[tuple[str, str], int]:
        if self.store is None:
            return {}
        try:
            return open_counts(self.store)
        except StoreError as exc:
            logger.warning("metrics: {}", exc)
            return {}


def server(request: Request) -> ServerState:
    """The state of the app serving ``request``."""
    state: ServerState = request.app.state.server
    return state
