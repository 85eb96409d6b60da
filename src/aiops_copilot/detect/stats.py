"""Per-template statistics gathered while the records stream past.

Detection works per template, not per line: a million lines reduce to a few hundred templates,
and every detector (severity, signatures, novelty, bursts, sessions) reads these statistics
afterwards. The per-record work is a dictionary lookup and a few counter increments, and every
collection is capped, so memory stays bounded however long the input is.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from aiops_copilot.models import Level, LineRef, LogRecord
from aiops_copilot.parsing.miner import Cluster

#: Lines kept per template as evidence: the first few and the most recent few.
FIRST_LINES = 6
LAST_LINES = 3
#: Distinct values kept per counter (hosts, services, entities): the rest are counted as "other".
MAX_DISTINCT = 200
#: Longest evidence line kept, in characters; a cited line never needs to be 64 KiB.
MAX_LINE_CHARS = 2000

#: Values worth counting on warning-and-worse lines: who (IPs, users) and where (host:port).
_ENTITY = re.compile(
    r"(?P<ip>(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.]))"
    r"|(?:\b(?:for (?:invalid |illegal )?user|user(?:name)?|ruser|login|for)[=: ]+['\"]?"
    r"(?P<user>(?!(?:user|invalid|illegal|failed|from|for|host|unknown|HTTP)\b)[\w.@-]{1,64}))"
)
#: Session keys: HDFS block ids in the text, request/trace ids in structured fields.
_BLOCK_ID = re.compile(r"blk_-?\d+")
SESSION_FIELDS = (
    "trace_id",
    "traceId",
    "trace.id",
    "request_id",
    "requestId",
    "req_id",
    "x_request_id",
    "correlation_id",
    "session_id",
)


_ERROR_KEYS = (
    "err",
    "error",
    "errors",
    "exception",
    "exc",
    "exc_info",
    "stack",
    "stacktrace",
    "stack_trace",
    "cause",
    "reason",
    "error.message",
    "error.type",
    "error_message",
)


def _error_detail(fields: dict[str, object]) -> str:
    """The error-describing fields of a structured record as one line ("" when none)."""
    parts: list[str] = []

    def walk(prefix: str, value: object, depth: int) -> None:
        if depth > 4 or len(parts) > 40:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner, depth + 1)
        elif isinstance(value, list):
            for inner in value[:5]:
                walk(prefix, inner, depth + 1)
        elif value is not None:
            parts.append(f"{prefix}={value}")

    for key in _ERROR_KEYS:
        if key in fields:
            walk(key, fields[key], 0)
    return " ".join(parts)[:MAX_LINE_CHARS]


def epoch_minute(ts: datetime) -> int:
    return int(ts.timestamp()) // 60


def _line_order(ref: LineRef) -> tuple[float, str, int]:
    """Time order where the lines have times, input order within a file otherwise."""
    return (ref.timestamp.timestamp() if ref.timestamp else 0.0, ref.source, ref.line_no)


def _line_no(ref: LineRef) -> int:
    return ref.line_no


def _as_given(ref: LineRef) -> int:
    """A constant key: a stable sort keeps the earlier list's lines first."""
    return 0


def _shifted(ref: LineRef, lines: int) -> LineRef:
    return replace(ref, line_no=ref.line_no + lines, end_line=ref.end_line + lines)


def _bump(counter: Counter[str], key: str) -> None:
    if key in counter or len(counter) < MAX_DISTINCT:
        counter[key] += 1
    else:
        counter["(other)"] += 1


@dataclass(slots=True)
class TemplateStats:
    """Everything detection needs to know about one template, bounded in size."""

    cluster: Cluster
    count: int = 0
    levels: Counter[int] = field(default_factory=Counter)
    minutes: Counter[int] = field(default_factory=Counter)
    first_lines: list[LineRef] = field(default_factory=list)
    last_lines: deque[LineRef] = field(default_factory=lambda: deque(maxlen=LAST_LINES))
    hosts: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: Index (0-based) of the first record of this template in the whole input: novelty against
    #: "the earlier part of the same input" needs to know where in the input a template began.
    first_index: int = 0
    #: The template's field keys and values that matter (HTTP status ...), from its records.
    statuses: Counter[str] = field(default_factory=Counter)
    #: For structured records: the error details kept outside the message (``err``,
    #: ``exception``, ``cause`` ... flattened), from the first record that had any. A JSON log's
    #: message says "request failed"; its ``err.code`` says ECONNREFUSED.
    detail: str | None = None

    @property
    def template_id(self) -> str:
        return self.cluster.template_id

    @property
    def template(self) -> str:
        return self.cluster.template

    @property
    def example(self) -> str:
        return self.cluster.example or self.cluster.template

    @property
    def max_level(self) -> Level:
        return Level(max(self.levels)) if self.levels else Level.UNKNOWN

    def count_at_least(self, level: Level) -> int:
        return sum(n for lvl, n in self.levels.items() if lvl >= level)

    @property
    def lines(self) -> list[LineRef]:
        """The kept evidence lines, in input order, without repeats."""
        seen = {(ref.source, ref.line_no) for ref in self.first_lines}
        tail = [ref for ref in self.last_lines if (ref.source, ref.line_no) not in seen]
        return [*self.first_lines, *tail]

    def merge(self, other: TemplateStats, *, order: Callable[[LineRef], Any] = _line_order) -> None:
        """Fold another template's statistics into this one (the miner merged the two).
        ``order`` ranks the evidence lines of both: by time, unless the caller knows the
        input order (:meth:`StatsCollector.absorb_partial`)."""
        self.count += other.count
        self.levels.update(other.levels)
        self.minutes.update(other.minutes)
        # Keep the earliest lines of both as "first" and the latest of both as "last".
        self.first_lines = sorted([*self.first_lines, *other.first_lines], key=order)[:FIRST_LINES]
        latest = sorted([*self.last_lines, *other.last_lines], key=order)
        self.last_lines = deque(latest[-LAST_LINES:], maxlen=LAST_LINES)
        for mine, theirs in (
            (self.hosts, other.hosts),
            (self.services, other.services),
            (self.sources, other.sources),
            (self.formats, other.formats),
            (self.entities, other.entities),
            (self.statuses, other.statuses),
        ):
            mine.update(theirs)
        if other.first_seen and (self.first_seen is None or other.first_seen < self.first_seen):
            self.first_seen = other.first_seen
        if other.last_seen and (self.last_seen is None or other.last_seen > self.last_seen):
            self.last_seen = other.last_seen
        self.first_index = min(self.first_index, other.first_index)
        if not self.detail:
            self.detail = other.detail


@dataclass(slots=True)
class PartialStats:
    """What one collector saw of one part of the input, for :meth:`StatsCollector.absorb_partial`.

    It was fed stand-in clusters whose ``cid`` is a local key ``0..n-1`` (the Dask engine's
    workers: one key per distinct token sequence); ``templates[i]`` holds key ``i``'s
    statistics and session events are local keys. Line numbers count from the part's first
    line. Everything here pickles small: counters, capped line lists, no miner.
    """

    templates: list[TemplateStats]
    sessions: dict[str, SessionTrace]
    sessions_dropped: int
    records: int
    levels: Counter[str]
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(slots=True)
class SessionTrace:
    """The templates one session (a block, request or trace id) went through, in order."""

    key: str
    events: list[int] = field(default_factory=list)  # cluster ids, resolved at the end
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class StatsCollector:
    """Feeds on (record, cluster) pairs; :meth:`finish` returns one stats object per template."""

    def __init__(self, *, max_sessions: int = 200_000, max_session_events: int = 500) -> None:
        self._by_cluster: dict[int, TemplateStats] = {}
        self.records = 0
        self.levels: Counter[str] = Counter()
        self.sessions: dict[str, SessionTrace] = {}
        self.sessions_dropped = 0
        self._max_sessions = max_sessions
        self._max_session_events = max_session_events
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None

    def observe(self, record: LogRecord, cluster: Cluster) -> None:
        stats = self._by_cluster.get(cluster.cid)
        if stats is None or stats.cluster is not cluster:
            stats = TemplateStats(cluster=cluster, first_index=self.records)
            self._by_cluster[cluster.cid] = stats
        index = self.records
        self.records = index + 1
        stats.count += 1
        level = record.level
        stats.levels[level] += 1
        self.levels[level.name] += 1
        ts = record.timestamp
        if ts is not None:
            stats.minutes[int(ts.timestamp()) // 60] += 1
            if stats.first_seen is None or ts < stats.first_seen:
                stats.first_seen = ts
            if stats.last_seen is None or ts > stats.last_seen:
                stats.last_seen = ts
            if self.first_seen is None or ts < self.first_seen:
                self.first_seen = ts
            if self.last_seen is None or ts > self.last_seen:
                self.last_seen = ts
        if len(stats.first_lines) < FIRST_LINES or stats.count % 7 == 0 or level >= Level.ERROR:
            ref = self._ref(record)
            if len(stats.first_lines) < FIRST_LINES:
                stats.first_lines.append(ref)
            else:
                stats.last_lines.append(ref)
        if record.host:
            _bump(stats.hosts, record.host)
        if record.service:
            _bump(stats.services, record.service)
        _bump(stats.sources, record.source)
        if record.format:
            _bump(stats.formats, record.format)
        fields = record.fields
        if fields:
            if not stats.detail:
                stats.detail = _error_detail(fields) or None
            status = fields.get("status")
            if status is not None:
                _bump(stats.statuses, str(status))
        if level >= Level.WARNING or level == Level.UNKNOWN or level == Level.NOTICE:
            # The raw line: formats move parts of it (nginx's "client: IP") into fields.
            self._entities(stats, record.raw or record.message)
        self._session(record, cluster, fields)

    @staticmethod
    def _ref(record: LogRecord) -> LineRef:
        text = record.raw or record.message
        if len(text) > MAX_LINE_CHARS:
            # Head and tail: a traceback's last line is the exception, the part that matters.
            half = MAX_LINE_CHARS // 2
            text = f"{text[:half]}\n…\n{text[-half:]}"
        return LineRef(
            source=record.source,
            line_no=record.line_no,
            end_line=record.end_line,
            text=text,
            timestamp=record.timestamp,
        )

    @staticmethod
    def _entities(stats: TemplateStats, message: str) -> None:
        if len(stats.entities) >= MAX_DISTINCT and "(other)" in stats.entities:
            return
        for match in _ENTITY.finditer(message[:4000]):
            ip, user = match.group("ip"), match.group("user")
            if ip:
                _bump(stats.entities, f"ip:{ip}")
            elif user:
                _bump(stats.entities, f"user:{user}")

    def _session(self, record: LogRecord, cluster: Cluster, fields: dict[str, object]) -> None:
        keys: Iterable[str] = ()
        message = record.message
        if "blk_" in message:
            keys = set(_BLOCK_ID.findall(message))
        elif fields:
            for name in SESSION_FIELDS:
                value = fields.get(name)
                if value:
                    keys = (f"{name}={value}",)
                    break
        for key in keys:
            trace = self.sessions.get(key)
            if trace is None:
                if len(self.sessions) >= self._max_sessions:
                    self.sessions_dropped += 1
                    continue
                trace = SessionTrace(key=key, first_seen=record.timestamp)
                self.sessions[key] = trace
            if len(trace.events) < self._max_session_events:
                trace.events.append(cluster.cid)
            if record.timestamp is not None:
                trace.last_seen = record.timestamp

    def partial(self) -> PartialStats:
        """This collector's statistics as a :class:`PartialStats`; it must have been fed
        stand-in clusters numbered ``0..n-1`` (see there)."""
        templates = [self._by_cluster[key] for key in range(len(self._by_cluster))]
        return PartialStats(
            templates=templates,
            sessions=self.sessions,
            sessions_dropped=self.sessions_dropped,
            records=self.records,
            levels=self.levels,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
        )

    def absorb_partial(
        self, part: PartialStats, clusters: Sequence[Cluster], *, line_offset: int = 0
    ) -> None:
        """Add the statistics of the next part of the input, as if this collector had observed
        its records: local key ``i`` becomes ``clusters[i]`` (what the miner made of that
        sequence), record indexes follow the records seen so far and line numbers move down
        by ``line_offset`` (the lines of the same source's earlier parts).

        Parts must come in input order. Counts, levels, times, first indexes, hosts, sources
        and sessions then add up exactly as one collector's would; the sampled evidence lines
        are kept in input order but may differ from one collector's sample (the every-7th
        rule counts per sequence here, per cluster there).
        """
        offset = self.records
        grouped: dict[int, TemplateStats] = {}
        for stats, cluster in zip(part.templates, clusters, strict=True):
            stats.cluster = cluster
            stats.first_index += offset
            if line_offset:
                stats.first_lines = [_shifted(ref, line_offset) for ref in stats.first_lines]
                stats.last_lines = deque(
                    (_shifted(ref, line_offset) for ref in stats.last_lines), maxlen=LAST_LINES
                )
            same = grouped.get(cluster.cid)
            if same is None:
                grouped[cluster.cid] = stats
            else:  # two sequences of this part in one template: interleave by line
                same.merge(stats, order=_line_no)
        for cid, stats in grouped.items():
            earlier = self._by_cluster.get(cid)
            if earlier is None or earlier.cluster is not stats.cluster:
                self._by_cluster[cid] = stats
            else:  # every line of an earlier part comes first
                earlier.merge(stats, order=_as_given)
        self.records += part.records
        self.levels.update(part.levels)
        if part.first_seen is not None and (
            self.first_seen is None or part.first_seen < self.first_seen
        ):
            self.first_seen = part.first_seen
        if part.last_seen is not None and (
            self.last_seen is None or part.last_seen > self.last_seen
        ):
            self.last_seen = part.last_seen
        self._absorb_sessions(part, clusters)

    def _absorb_sessions(self, part: PartialStats, clusters: Sequence[Cluster]) -> None:
        self.sessions_dropped += part.sessions_dropped
        for key, trace in part.sessions.items():
            mine = self.sessions.get(key)
            if mine is None:
                if len(self.sessions) >= self._max_sessions:
                    # One collector drops each record of a session it has no room for.
                    self.sessions_dropped += max(1, len(trace.events))
                    continue
                mine = SessionTrace(key=key, first_seen=trace.first_seen)
                self.sessions[key] = mine
            room = self._max_session_events - len(mine.events)
            if room > 0:
                mine.events.extend(clusters[i].cid for i in trace.events[:room])
            if trace.last_seen is not None:
                mine.last_seen = trace.last_seen

    def finish(self) -> list[TemplateStats]:
        """One stats object per live template (merged clusters folded into their survivor)."""
        live: dict[int, TemplateStats] = {}
        for stats in self._by_cluster.values():
            target = stats.cluster.resolve()
            existing = live.get(id(target))
            if existing is None:
                if target is not stats.cluster:
                    survivor = TemplateStats(cluster=target, first_index=stats.first_index)
                    survivor.merge(stats)
                    live[id(target)] = survivor
                else:
                    live[id(target)] = stats
            else:
                existing.merge(stats)
        for stats in live.values():
            stats.first_lines.sort(key=lambda ref: (ref.source, ref.line_no))
        return sorted(live.values(), key=lambda s: s.first_index)

    def template_ids(self) -> dict[int, str]:
        """Every cluster id seen, mapped to the id of the template it now lives in."""
        return {cid: stats.cluster.resolve().template_id for cid, stats in self._by_cluster.items()}

    def session_sequences(
        self, resolve: dict[int, str]
    ) -> Iterator[tuple[SessionTrace, list[str]]]:
        """Each session with its events as template ids (``resolve`` maps cluster id -> id)."""
        for trace in self.sessions.values():
            yield trace, [resolve[cid] for cid in trace.events if cid in resolve]
