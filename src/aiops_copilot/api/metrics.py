"""``GET /metrics``: what the server did, for Prometheus, in the app's own registry.

Two kinds of metric. Events the handlers see (records accepted per endpoint, requests
refused and why, entries skipped, upload analysis time, LLM calls) are counters and
histograms updated as they happen. State that lives elsewhere (queue depth, the pipeline's
counters, open incidents in the store) is read at scrape time by a collector, so it is never
stale and nothing has to push it. One registry per app: two servers in one process (the
tests) never share counts.

The LLM hook, two ways in: an analysis that used the LLM assistant carries its report in
``summary["llm"]`` (provider, requests, failed, seconds: ``llm/assist.py``), which
:meth:`ApiMetrics.observe_analysis` reads for every window and upload; and anything that
makes calls itself can report each one with :meth:`ApiMetrics.record_llm`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from loguru import logger
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

#: Seconds: analysis of a window or an upload takes from milliseconds to minutes.
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: (pipeline stats attribute, metric name, help, kind)
_PIPELINE = (
    ("records_ingested", "aiops_pipeline_records", "Records the live pipeline mined.", "counter"),
    (
        "parse_errors",
        "aiops_pipeline_parse_errors",
        "Entries the sources could not turn into records (malformed, skipped).",
        "counter",
    ),
    ("templates", "aiops_templates", "Templates the live miner knows.", "gauge"),
    ("windows", "aiops_windows", "Windows analysed.", "counter"),
    ("windows_full", "aiops_windows_full", "Windows analysed early because full.", "counter"),
    ("pending_records", "aiops_window_records", "Records in the current window.", "gauge"),
    ("store_errors", "aiops_store_errors", "Windows the store could not record.", "counter"),
)
_CHANGES = ("new", "reopened", "updated")


class ApiMetrics:
    """The counters the handlers update, and the registry ``/metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.ingested = Counter(
            "aiops_ingest_records",
            "Records accepted into the ingest queue, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.rejected = Counter(
            "aiops_ingest_rejected_requests",
            "Ingestion requests refused, by endpoint and reason (queue_full is a 429).",
            ["endpoint", "reason"],
            registry=registry,
        )
        self.rejected_records = Counter(
            "aiops_ingest_rejected_records",
            "Records in refused requests (the sender keeps them and retries).",
            ["endpoint"],
            registry=registry,
        )
        self.skipped = Counter(
            "aiops_ingest_skipped",
            "Entries skipped as malformed, lines cut at the length limit, invalid UTF-8.",
            ["endpoint", "reason"],
            registry=registry,
        )
        self.analysis = Histogram(
            "aiops_analysis_seconds",
            "Analysis time: a live window (window) or an uploaded file (upload).",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.llm_requests = Counter(
            "aiops_llm_requests", "LLM requests, by provider.", ["provider"], registry=registry
        )
        self.llm_failures = Counter(
            "aiops_llm_failures",
            "LLM requests that failed (the deterministic diagnosis stood).",
            ["provider"],
            registry=registry,
        )
        self.llm_seconds = Histogram(
            "aiops_llm_seconds",
            "LLM request time.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for kind in ("window", "upload"):
            self.analysis.labels(kind=kind)

    def watch(self, state: StateReader) -> None:
        """Read live state (queue, pipeline, store) at every scrape."""
        self.registry.register(_StateCollector(state))

    def record_llm(self, provider: str, ok: bool, seconds: float = 0.0) -> None:
        """The LLM hook: one call per LLM request."""
        self.llm_requests.labels(provider=provider).inc()
        if not ok:
            self.llm_failures.labels(provider=provider).inc()
        if seconds > 0:
            self.llm_seconds.labels(provider=provider).observe(seconds)

    def on_window(self, window: Any) -> None:
        """The live pipeline's ``on_window``: how long each window's analysis took."""
        seconds = getattr(window, "seconds", None)
        if isinstance(seconds, int | float):
            self.analysis.labels(kind="window").observe(float(seconds))
        result = getattr(window, "result", None)
        self.observe_analysis(getattr(result, "summary", None))

    def observe_analysis(self, summary: Any) -> None:
        """Count the LLM requests an analysis made, from its ``summary["llm"]`` report."""
        report = summary.get("llm") if isinstance(summary, Mapping) else None
        if not isinstance(report, Mapping):
            return
        provider = str(report.get("provider") or "unknown")
        requests, failed = report.get("requests"), report.get("failed")
        if isinstance(requests, int) and requests > 0:
            self.llm_requests.labels(provider=provider).inc(requests)
        if isinstance(failed, int) and failed > 0:
            self.llm_failures.labels(provider=provider).inc(failed)
        seconds = report.get("seconds")
        if isinstance(seconds, int | float) and seconds > 0:
            self.llm_seconds.labels(provider=provider).observe(float(seconds))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StateReader:
    """Where the scrape-time values come from; each part may be absent (not started yet)."""

    def __init__(
        self,
        *,
        queue: Callable[[], Any],
        pipeline: Callable[[], Any],
        open_incidents: Callable[[], Mapping[tuple[str, str], int]],
    ) -> None:
        self.queue = queue
        self.pipeline = pipeline
        self.open_incidents = open_incidents


class _StateCollector(Collector):
    def __init__(self, state: StateReader) -> None:
        self.state = state

    def describe(self) -> list[Any]:
        return []  # families vary with what is running; collected at scrape time only

    def collect(self) -> Iterator[Any]:
        yield from self._queue()
        yield from self._pipeline()
        yield from self._incidents()

    def _queue(self) -> Iterator[Any]:
        queue = self.state.queue()
        if queue is None:
            return
        yield GaugeMetricFamily(
            "aiops_ingest_queue_records", "Records accepted and waiting.", value=queue.depth
        )
        yield GaugeMetricFamily(
            "aiops_ingest_queue_capacity",
            "Waiting records beyond which pushes get 429.",
            value=queue.capacity,
        )
        yield CounterMetricFamily(
            "aiops_ingest_processed_records",
            "Records the worker handed to the live pipeline.",
            value=queue.processed,
        )
        yield CounterMetricFamily(
            "aiops_ingest_failed_records",
            "Records the live pipeline failed on (logged with the error).",
            value=queue.failed,
        )

    def _pipeline(self) -> Iterator[Any]:
        pipeline = self.state.pipeline()
        if pipeline is None:
            return
        stats = pipeline.stats
        for attribute, name, text, kind in _PIPELINE:
            value = getattr(stats, attribute, None)
            if not isinstance(value, int | float):
                continue
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family(name, text, value=value)
        changes = CounterMetricFamily(
            "aiops_incident_changes",
            "Incidents a window found new, reopened (back after resolved) or updated.",
            labels=["change"],
        )
        for change in _CHANGES:
            value = getattr(stats, f"incidents_{change}", None)
            if isinstance(value, int):
                changes.add_metric([change], value)
        yield changes

    def _incidents(self) -> Iterator[Any]:
        try:
            counts = self.state.open_incidents()
        except Exception as exc:  # a scrape must answer even when the store does not
            logger.warning("metrics: open incidents not read: {}", exc)
            return
        family = GaugeMetricFamily(
            "aiops_incidents_open",
            "Stored incidents open or recurred, by domain and severity.",
            labels=["domain", "severity"],
        )
        for (domain, severity), count in sorted(counts.items()):
            family.add_metric([domain, severity], count)
        yield family
