"""Continuous analysis: the one-shot pipeline run window after window over arriving records.

Batch and live differ only in where records come from and when the analysis runs. Records
are fed in by any source (the file follower, the syslog receiver, the HTTP API), mined at
once by *one* miner that lives as long as the pipeline (so a template has the same id in
every window) and counted into the current window's statistics. When the window is due (its
time is up) or full (``max_window_records``: memory stays bounded however fast logs arrive),
the window is concluded like ``aiops analyze`` concludes a file: detect, group, diagnose,
store, remember; the store says which incidents are new, which came back after someone
resolved them, and which were only seen again; ``on_incident`` hears about each.

Earlier windows are the baseline of later ones (:mod:`aiops_copilot.live.baseline`): a
template the watcher has seen before is not novel, and a rate is a burst only against the
rate it used to have.

Thread safety: :meth:`LivePipeline.feed` may be called from any thread (an HTTP handler, the
syslog receiver, the follower loop); mining and window bookkeeping happen under one lock.
Concluding a window holds that lock while it reads the miner (feeders wait, nothing is lost)
and releases it before the slow part that touches no shared state: storing and notifying.

Stream consumers (``aiops consume``, :mod:`aiops_copilot.stream`) use three hooks: they mine
a batch with the miner their consumer group shares and hand the records in already mined
(:meth:`LivePipeline.feed_mined`); a ``recorder`` stores each window together with the
ledger of the broker messages it holds, and when it raises, the window is dropped unannounced
(the messages go back to the broker and come again); and :meth:`LivePipeline.learn` folds in
what the group's other consumers mined, so "new" means new to the group.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loguru import logger

from aiops_copilot.analysis import AnalysisOptions, conclude, default_detectors, learn_baseline
from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.stats import StatsCollector, TemplateStats
from aiops_copilot.ingest.reader import IngestRun, SourceReport
from aiops_copilot.ingest.reading import ReadStats
from aiops_copilot.ingest.sources import Source
from aiops_copilot.learning import LearnedRules
from aiops_copilot.live.baseline import RollingBaseline
from aiops_copilot.models import AnalysisResult, Incident, IncidentHistory, IncidentStatus
from aiops_copilot.parsing.miner import Cluster, MinerConfig, TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record
from aiops_copilot.report.view import domain_of, title_of
from aiops_copilot.store.location import StoreError

if TYPE_CHECKING:
    from aiops_copilot.config import Settings
    from aiops_copilot.knowledge.loader import KnowledgeBase
    from aiops_copilot.models import LogRecord
    from aiops_copilot.store.sql import Store, StoredRun

#: What happened to an incident in a window, as ``on_incident`` is told.
NEW, REOPENED, UPDATED = "new", "reopened", "updated"
#: Incidents shown on the live board at most (the most recently seen are kept).
MAX_BOARD = 500
#: Distinct sources counted per window; more are summed under "(other)".
MAX_WINDOW_SOURCES = 200

IncidentHook = Callable[[Incident, str], None]
#: Stores a window in place of ``Store.record`` (the store, the analysis, the window's start).
Recorder = Callable[["Store", AnalysisResult, "datetime | None"], "StoredRun"]


@dataclass(frozen=True, slots=True)
class LiveIncident:
    """One incident on the live board: what the terminal view and the metrics show."""

    id: str
    fingerprint: str
    severity: str
    domain: str | None
    title: str
    #: Records in every window that saw it since the pipeline started.
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    #: Wall-clock time of the window that last saw it (UTC).
    updated_at: datetime
    #: The last change: new, reopened or updated.
    change: str
    status: str = IncidentStatus.OPEN.value


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One concluded window: the analysis, what the store made of it, and what changed."""

    index: int
    result: AnalysisResult
    stored: StoredRun | None
    new: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    records: int = 0
    started_at: datetime | None = None
    #: Seconds the analysis (detect to store) took.
    seconds: float = 0.0
    #: "due", "full", "flush" (asked for) or "empty" (nothing to analyse).
    reason: str = "flush"


@dataclass(frozen=True, slots=True)
class LiveStats:
    """Counters for metrics and the status line; a snapshot, safe to read from any thread."""

    records_ingested: int = 0
    #: Input the sources could not turn into records (malformed frames, bad HTTP lines).
    parse_errors: int = 0
    templates: int = 0
    windows: int = 0
    #: Windows concluded early because they were full.
    windows_full: int = 0
    pending_records: int = 0
    incidents_open: int = 0
    incidents_new: int = 0
    incidents_reopened: int = 0
    incidents_updated: int = 0
    store_errors: int = 0
    last_window_seconds: float = 0.0
    last_window_records: int = 0
    last_window_at: datetime | None = None
    started_at: datetime | None = None


class LivePipeline:
    """Continuous analysis: records are fed in from any source (files, syslog, HTTP),
    templates are mined as they arrive with ONE miner that lives as long as the pipeline,
    and every window the records gathered since the last window are analysed and the
    incidents stored."""

    def __init__(
        self,
        settings: Settings,
        *,
        kb: KnowledgeBase | None = None,
        window_seconds: float = 60.0,
        max_window_records: int = 200_000,
        on_incident: IncidentHook | None = None,
        on_window: Callable[[WindowResult], None] | None = None,
        command: str = "watch",
        clock: Callable[[], float] = time.monotonic,
        recorder: Recorder | None = None,
    ) -> None:
        """``recorder``: stores each window instead of ``Store.record`` (needs the store);
        whatever it raises ends the window unannounced and reaches the caller of
        :meth:`flush` or :meth:`maybe_flush` (a stream consumer then gives the window's
        messages back to the broker). Without it a store failure is logged and counted."""
        if window_seconds <= 0:
            raise ValueError("the window must be longer than 0 seconds")
        if max_window_records < 1:
            raise ValueError("a window must hold at least one record")
        self.settings = settings
        self.window_seconds = float(window_seconds)
        self.max_window_records = int(max_window_records)
        self.command = command
        self._on_incident = on_incident
        self._on_window = on_window
        self._clock = clock
        self._recorder = recorder
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._resources = ExitStack()
        self._closed = False
        if kb is None:
            from aiops_copilot.knowledge.loader import load_knowledge

            kb = load_knowledge([])
        self.kb = kb
        self.miner = _miner(settings)
        self._baseline = RollingBaseline()
        self._store = self._open_store(settings)
        self._memory: Any = None
        try:
            self._seed_baseline(settings)
            self._memory = self._open_memory(settings)
        except BaseException:
            self._resources.close()
            raise
        self._collector = StatsCollector()
        self._sources: Counter[str] = Counter()
        self._formats: dict[str, str] = {}
        self._opened_at: float | None = None
        self._opened_wall: datetime | None = None
        self._seen: set[str] = set()
        self._board: OrderedDict[str, LiveIncident] = OrderedDict()
        self._stats = LiveStats(started_at=datetime.now(UTC))
        # Bumped per record: plain ints, folded into the snapshot when someone asks.
        self._ingested = 0
        self._parse_errors = 0

    # -- feeding -----------------------------------------------------------------------

    def feed(self, records: Iterable[LogRecord]) -> int:
        """Mine records into the current window; returns how many were accepted (all of
        them, unless the pipeline is closed). A full window is concluded on the way, in the
        caller's thread: back-pressure instead of unbounded memory."""
        accepted = 0
        iterator = iter(records)
        while True:
            with self._lock:
                if self._closed:
                    return accepted
                # Checked before each record: with several feeders, none overfills a window.
                while self._collector.records < self.max_window_records:
                    record = next(iterator, None)
                    if record is None:
                        return accepted
                    self._observe(record)
                    accepted += 1
            self._conclude("full")

    def feed_mined(self, pairs: Iterable[tuple[LogRecord, Cluster]]) -> int:
        """Count records someone else mined (a stream consumer mines a batch at once with its
        group's shared miner) into the current window. Never concludes a window: the caller
        checks :meth:`due`, so a window holds whole batches."""
        accepted = 0
        with self._lock:
            if self._closed:
                return 0
            for record, cluster in pairs:
                self._count(record, cluster)
                accepted += 1
        return accepted

    def replace_miner(self, miner: TemplateMiner) -> None:
        """Mine with ``miner`` from now on (a stream consumer's replica, reloaded from the
        group's snapshot); what the old one taught the baseline no longer applies."""
        with self._lock:
            self.miner = miner
            self._baseline = RollingBaseline()

    def learn(self, baseline: Baseline) -> None:
        """Fold records analysed elsewhere (by the group's other consumers) into the baseline
        later windows are compared with."""
        with self._lock:
            self._baseline.add(baseline)

    def _observe(self, record: LogRecord) -> None:
        self._count(record, mine_record(self.miner, record))

    def _count(self, record: LogRecord, cluster: Cluster) -> None:
        self._collector.observe(record, cluster)
        if self._opened_at is None:
            self._opened_at = self._clock()
            self._opened_wall = datetime.now(UTC)
        source = record.source or "(unnamed)"
        if source not in self._sources and len(self._sources) >= MAX_WINDOW_SOURCES:
            source = "(other)"
        self._sources[source] += 1
        if record.format:
            self._formats[source] = record.format
        self._ingested += 1

    def note_parse_errors(self, count: int = 1) -> None:
        """Sources report input they had to skip (a malformed frame, an unparsable line)."""
        if count > 0:
            with self._lock:
                self._parse_errors += count

    # -- windows -----------------------------------------------------------------------

    def due(self, now: float | None = None) -> bool:
        """True when the current window holds records and its time is up, or it is full."""
        with self._lock:
            if self._opened_at is None or self._collector.records == 0:
                return False
            if self._collector.records >= self.max_window_records:
                return True
            moment = self._clock() if now is None else now
            return moment - self._opened_at >= self.window_seconds

    def maybe_flush(self, now: float | None = None) -> WindowResult | None:
        """Conclude the window when it is due or full; None when it is not."""
        if not self.due(now):
            return None
        return self._conclude("due")

    def flush(self) -> WindowResult:
        """Conclude the current window now, whatever its age (a shutdown, a test)."""
        return self._conclude("flush")

    def seconds_until_due(self, now: float | None = None) -> float | None:
        """How long until the current window is due (None while it is empty)."""
        with self._lock:
            if self._opened_at is None:
                return None
            moment = self._clock() if now is None else now
            return max(0.0, self.window_seconds - (moment - self._opened_at))

    def _conclude(self, reason: str) -> WindowResult:
        with self._flush_lock:
            started = self._clock()
            with self._lock:
                records = self._collector.records
                # Nothing to do, or another feeder concluded the full window while this one
                # waited for it: the new window is not full, leave it be.
                if records == 0 or (reason == "full" and records < self.max_window_records):
                    return WindowResult(
                        index=self._stats.windows,
                        result=AnalysisResult(incidents=[], summary={}),
                        stored=None,
                        reason="empty",
                    )
                collector, sources, formats = self._collector, self._sources, self._formats
                opened_wall = self._opened_wall
                self._collector, self._sources, self._formats = StatsCollector(), Counter(), {}
                self._opened_at = self._opened_wall = None
                result, templates = self._analyse(collector, sources, formats)
            stored = self._record(result, opened_wall)
            with self._lock:  # learned only once stored: a window given back comes again
                self._baseline.add_window(collector, templates)
                self._baseline.prune(self.miner)
            if self._memory is not None and result.incidents:
                try:
                    self._memory.remember(result.incidents)
                except Exception as exc:  # memory is an aid: a failure must not stop the watch
                    logger.warning("memory: not remembered: {}", exc)
            changes = self._changes(result.incidents)
            seconds = self._clock() - started
            window = WindowResult(
                index=self._stats.windows + 1,
                result=result,
                stored=stored,
                new=[i.id for i, c in changes if c == NEW],
                reopened=[i.id for i, c in changes if c == REOPENED],
                updated=[i.id for i, c in changes if c == UPDATED],
                records=collector.records,
                started_at=opened_wall,
                seconds=seconds,
                reason=reason,
            )
            self._after_window(window, changes)
            return window

    def _analyse(
        self, collector: StatsCollector, sources: Counter[str], formats: dict[str, str]
    ) -> tuple[AnalysisResult, list[TemplateStats]]:
        """Detect to diagnose on one window (under the lock: it reads the shared miner); the
        result and the window's finished statistics."""
        options = AnalysisOptions(
            window_minutes=self.settings.detect.window_minutes,
            detectors=default_detectors(self._baseline.snapshot()),
            memory=self._memory,
            learned=self._learned(),
        )
        templates = collector.finish()
        result = conclude(
            _window_run(sources, formats), collector, self.miner, self.kb, options,
            templates=templates,
        )  # fmt: skip
        return result, templates

    def _learned(self) -> LearnedRules:
        """Rules from feedback, re-read every window: feedback given while watching counts."""
        if self._store is None:
            return LearnedRules()
        try:
            return self._store.learned()
        except StoreError as exc:
            logger.info("no learned rules: {}", exc)
            return LearnedRules()

    def _record(self, result: AnalysisResult, opened: datetime | None) -> StoredRun | None:
        if self._store is None:
            return None
        if self._recorder is not None:
            return self._recorder(self._store, result, opened)
        try:
            return self._store.record(result, command=self.command, started_at=opened)
        except Exception as exc:  # the watch goes on; the next window may store again
            logger.warning("window not stored: {}", exc)
            with self._lock:
                self._stats = replace(self._stats, store_errors=self._stats.store_errors + 1)
            return None

    def _changes(self, incidents: list[Incident]) -> list[tuple[Incident, str]]:
        changes: list[tuple[Incident, str]] = []
        for incident in incidents:
            if incident.history is not None:
                change = REOPENED if _reopens(incident.history) else UPDATED
            elif incident.fingerprint in self._seen and self._store is None:
                change = UPDATED
            else:
                change = NEW
            self._seen.add(incident.fingerprint)
            if len(self._seen) > 100_000:
                self._seen.clear()  # only matters without a store; a bound beats a leak
            changes.append((incident, change))
        return changes

    def _after_window(self, window: WindowResult, changes: list[tuple[Incident, str]]) -> None:
        now = datetime.now(UTC)
        logger.info(
            "window {} ({}): {:,} records, {} incident(s): {} new, {} reopened; {:.2f}s",
            window.index,
            window.reason,
            window.records,
            len(changes),
            len(window.new),
            len(window.reopened),
            window.seconds,
        )
        with self._lock:
            for incident, change in changes:
                self._put_on_board(incident, change, now)
            self._drop_resolved()
            counts = Counter(change for _, change in changes)
            stats = self._stats
            self._stats = replace(
                stats,
                windows=stats.windows + 1,
                windows_full=stats.windows_full + (window.reason == "full"),
                incidents_new=stats.incidents_new + counts[NEW],
                incidents_reopened=stats.incidents_reopened + counts[REOPENED],
                incidents_updated=stats.incidents_updated + counts[UPDATED],
                last_window_seconds=window.seconds,
                last_window_records=window.records,
                last_window_at=now,
            )
        for incident, change in changes:
            if self._on_incident is not None:
                try:
                    self._on_incident(incident, change)
                except Exception as exc:  # a notifier's failure must not stop the watch
                    logger.warning("on_incident failed for {}: {}", incident.id, exc)
        if self._on_window is not None:
            try:
                self._on_window(window)
            except Exception as exc:
                logger.warning("on_window failed: {}", exc)

    def _put_on_board(self, incident: Incident, change: str, now: datetime) -> None:
        before = self._board.pop(incident.fingerprint, None)
        history = incident.history
        status = history.status.value if history is not None else IncidentStatus.OPEN.value
        self._board[incident.fingerprint] = LiveIncident(
            id=incident.id,
            fingerprint=incident.fingerprint,
            severity=incident.severity.value,
            domain=domain_of(incident),
            title=title_of(incident),
            count=incident.count + (before.count if before is not None else 0),
            first_seen=(before.first_seen if before is not None else None) or incident.first_seen,
            last_seen=incident.last_seen or incident.first_seen,
            updated_at=now,
            change=change,
            status=status,
        )
        while len(self._board) > MAX_BOARD:
            self._board.popitem(last=False)

    def _drop_resolved(self) -> None:
        """Incidents someone resolved while we watched leave the board (the store knows)."""
        if self._store is None or not self._board or self._stats.started_at is None:
            return
        try:
            resolved = self._store.incidents(
                since=self._stats.started_at, status=IncidentStatus.RESOLVED.value
            )
        except StoreError as exc:
            logger.info("board not refreshed: {}", exc)
            return
        for item in resolved:
            self._board.pop(item.fingerprint, None)

    # -- reading state -----------------------------------------------------------------

    @property
    def store(self) -> Store | None:
        """The pipeline's store (None with ``store.enabled`` off); the pipeline closes it."""
        return self._store

    @property
    def stats(self) -> LiveStats:
        with self._lock:
            return replace(
                self._stats,
                records_ingested=self._ingested,
                parse_errors=self._parse_errors,
                templates=len(self.miner),
                pending_records=self._collector.records,
                incidents_open=len(self._board),
            )

    def open_incidents(self) -> list[LiveIncident]:
        """The board: incidents seen since the pipeline started and not resolved, worst and
        most recent first."""
        with self._lock:
            items = list(self._board.values())
        return sorted(items, key=_board_order)

    # -- life cycle --------------------------------------------------------------------

    def close(self) -> None:
        """Conclude what is left, save the miner's state, release the store and memory."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            with self._lock:
                self._closed = True
            self._save_miner()
            self._resources.close()

    def __enter__(self) -> LivePipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _save_miner(self) -> None:
        path = self.settings.miner.state_file
        if path is None:
            return
        try:
            self.miner.save(path)
        except OSError as exc:
            logger.warning("miner state not saved to {}: {}", path, exc)

    def _open_store(self, settings: Settings) -> Store | None:
        if not settings.store.enabled:
            return None
        from aiops_copilot.store.sql import Store

        store = Store(settings.store.url, timeout=settings.store.timeout)
        self._resources.callback(store.close)
        return store

    def _open_memory(self, settings: Settings) -> Any:
        if not settings.memory.enabled:
            return None
        from aiops_copilot.memory.runtime import SharedRecall, recall

        opened = self._resources.enter_context(recall(settings))
        return SharedRecall(opened) if opened is not None else None

    @property
    def memory(self) -> Any:
        """The pipeline's memory (``None`` when off), safe to share with other threads: the
        API's upload analyses cite from it too (one client per Qdrant folder)."""
        return self._memory

    def _seed_baseline(self, settings: Settings) -> None:
        """``detect.baseline`` files, mined first with the pipeline's miner, seed "normal"."""
        paths = settings.detect.baseline
        if not paths:
            return
        from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs

        run = open_inputs([str(p) for p in paths])
        if not run.sources:
            reasons = "; ".join(f"{s.target}: {s.reason}" for s in run.skipped)
            raise ValueError(f"baseline: nothing to read ({reasons or 'no input'})")
        options = ReadOptions(
            max_line_bytes=settings.ingest.max_line_bytes,
            sample_lines=settings.ingest.sample_lines,
            forced_format=settings.ingest.format,
        )
        self._baseline.add(learn_baseline(iter_records(run, options), self.miner))


def _reopens(history: IncidentHistory) -> bool:
    """Back after a resolution: resolved after it was last seen, and seen in new lines."""
    resolved = history.last_resolved_at
    if history.same_logs or resolved is None or history.status is not IncidentStatus.RECURRED:
        return False
    return _utc(resolved) >= _utc(history.last_seen_at)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _board_order(item: LiveIncident) -> tuple[int, float]:
    from aiops_copilot.models import Severity

    return (-Severity(item.severity).rank, -item.updated_at.timestamp())


def _miner(settings: Settings) -> TemplateMiner:
    config = MinerConfig(
        similarity=settings.miner.similarity,
        max_constant_values=settings.miner.max_constant_values,
        max_clusters=settings.miner.max_clusters,
    )
    state = settings.miner.state_file
    if state is not None and state.exists():
        logger.info("loading miner state from {}", state)
        return TemplateMiner.load(state, config)
    return TemplateMiner(config)


def _window_run(sources: Counter[str], formats: dict[str, str]) -> IngestRun:
    """A window's sources as the summary reports them: records per source, no byte counts
    (a window is a slice of a stream, not a file)."""
    reports = []
    for name, count in sources.most_common():
        report = SourceReport(source=Source(name, None), stats=ReadStats(lines=count))
        report.format = formats.get(name, "")
        report.confidence = 1.0 if report.format else 0.0
        report.records = count
        reports.append(report)
    return IngestRun(sources=[r.source for r in reports], skipped=[], reports=reports)
