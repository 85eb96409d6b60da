"""The shared vocabulary every stage speaks.

Stages pass plain dataclasses so that a record read from a file, from stdin or (later) from an
HTTP push looks the same to the miner and the detectors. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any


class Domain(StrEnum):
    """The six specialities an incident is routed to, one fixer agent each."""

    DATABASE = "database"
    NETWORK = "network"
    APPLICATION = "application"
    SECURITY = "security"
    INFRASTRUCTURE = "infrastructure"
    INTEGRATION = "integration"


class Severity(StrEnum):
    """How bad an incident is, as reported (``critical`` worst, ``info`` a note)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info 0 ... critical 4, for comparisons and sorting."""
        return _SEVERITY_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        return _SEVERITY_BY_RANK[max(0, min(4, rank))]


_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_SEVERITY_BY_RANK = {
    0: Severity.INFO,
    1: Severity.LOW,
    2: Severity.MEDIUM,
    3: Severity.HIGH,
    4: Severity.CRITICAL,
}


class Level(IntEnum):
    """One severity scale for every source (syslog, Python, log4j, Go, nginx ... all map here)."""

    UNKNOWN = 0
    TRACE = 5
    DEBUG = 10
    INFO = 20
    NOTICE = 25
    WARNING = 30
    ERROR = 40
    CRITICAL = 50
    ALERT = 60
    EMERGENCY = 70


_LEVEL_WORDS: dict[str, Level] = {
    "trace": Level.TRACE,
    "finest": Level.TRACE,
    "finer": Level.TRACE,
    "verbose": Level.TRACE,
    "v": Level.TRACE,
    "debug": Level.DEBUG,
    "dbug": Level.DEBUG,
    "fine": Level.DEBUG,
    "d": Level.DEBUG,
    "debug1": Level.DEBUG,
    "debug2": Level.DEBUG,
    "debug3": Level.DEBUG,
    "debug4": Level.DEBUG,
    "debug5": Level.DEBUG,
    "info": Level.INFO,
    "information": Level.INFO,
    "informational": Level.INFO,
    "i": Level.INFO,
    "log": Level.INFO,
    "config": Level.INFO,
    "statement": Level.INFO,
    "detail": Level.INFO,
    "hint": Level.INFO,
    "notice": Level.NOTICE,
    "note": Level.NOTICE,
    "n": Level.NOTICE,
    "warn": Level.WARNING,
    "warning": Level.WARNING,
    "w": Level.WARNING,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "eror": Level.ERROR,
    "e": Level.ERROR,
    "severe": Level.ERROR,
    "failure": Level.ERROR,
    "fail": Level.ERROR,
    "critical": Level.CRITICAL,
    "crit": Level.CRITICAL,
    "fatal": Level.CRITICAL,
    "f": Level.CRITICAL,
    "panic": Level.EMERGENCY,
    "alert": Level.ALERT,
    "emerg": Level.EMERGENCY,
    "emergency": Level.EMERGENCY,
}

#: syslog numeric severities (RFC 5424 section 6.2.1) onto our scale.
SYSLOG_SEVERITIES: tuple[Level, ...] = (
    Level.EMERGENCY,
    Level.ALERT,
    Level.CRITICAL,
    Level.ERROR,
    Level.WARNING,
    Level.NOTICE,
    Level.INFO,
    Level.DEBUG,
)


def parse_level(word: str | int | None) -> Level:
    """Map a level word or number from any source onto :class:`Level`.

    Numbers below 8 are syslog severities; larger numbers follow bunyan/pino (10..60).
    Unknown words give ``Level.UNKNOWN`` rather than a guess.
    """
    if word is None:
        return Level.UNKNOWN
    if isinstance(word, int) and not isinstance(word, bool):
        if 0 <= word < len(SYSLOG_SEVERITIES):
            return SYSLOG_SEVERITIES[word]
        # bunyan/pino, the usual numeric levels in JSON logs: 10 trace ... 60 fatal.
        for floor, level in (
            (60, Level.CRITICAL),
            (50, Level.ERROR),
            (40, Level.WARNING),
            (30, Level.INFO),
            (20, Level.DEBUG),
        ):
            if word >= floor:
                return level
        return Level.TRACE
    text = str(word).strip().strip("[]<>():").lower()
    if text.isdigit():
        return parse_level(int(text))
    return _LEVEL_WORDS.get(text, Level.UNKNOWN)


@dataclass(slots=True)
class LogRecord:
    """One logical log record after decoding, possibly folded from several physical lines.

    ``line_no``/``end_line`` are 1-based physical line numbers in ``source`` so that every later
    stage (incidents, diagnoses) can cite exactly where the evidence came from.
    """

    message: str
    timestamp: datetime | None = None
    level: Level = Level.UNKNOWN
    host: str | None = None
    service: str | None = None
    pid: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    line_no: int = 0
    end_line: int = 0
    raw: str = ""
    format: str = ""

    @property
    def is_multiline(self) -> bool:
        return self.end_line > self.line_no


@dataclass(frozen=True, slots=True)
class LineRef:
    """One log record cited as evidence: where it is and what it said."""

    source: str
    line_no: int
    end_line: int
    text: str
    timestamp: datetime | None = None

    @property
    def location(self) -> str:
        span = (
            f"{self.line_no}"
            if self.end_line <= self.line_no
            else f"{self.line_no}-{self.end_line}"
        )
        return f"{self.source}:{span}"


class SignalKind(StrEnum):
    """Why a template looked wrong. Each detector emits one kind."""

    SEVERITY = "severity"  # ERROR/FATAL level, HTTP 5xx, a non-zero exit
    SIGNATURE = "signature"  # a known error from the knowledge base
    NOVELTY = "novelty"  # a template new or rare against the baseline
    BURST = "burst"  # a template's rate jumped against its own history
    SESSION = "session"  # a session (block/request/trace id) broke its usual sequence


@dataclass(slots=True)
class Signal:
    """One detector's finding about one template, with a score in 0..1 and a reason in words."""

    kind: SignalKind
    template_id: str
    score: float
    reason: str
    severity: Severity
    entry_id: str | None = None
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(slots=True)
class Classification:
    """The classifier's scores for the six domains and the reasons behind each score."""

    scores: dict[Domain, float]
    reasons: dict[Domain, list[str]]

    @property
    def ranked(self) -> list[tuple[Domain, float]]:
        return sorted(self.scores.items(), key=lambda item: (-item[1], item[0].value))

    @property
    def top(self) -> Domain:
        return self.ranked[0][0]


class HypothesisStatus(StrEnum):
    SUPPORTED = "supported"  # the evidence points to it
    POSSIBLE = "possible"  # nothing rules it in or out
    RULED_OUT = "ruled_out"  # the evidence contradicts it


@dataclass(slots=True)
class Hypothesis:
    """A candidate cause, ranked, with what in the evidence rules it in or out."""

    cause: str
    status: HypothesisStatus
    because: str
    score: float = 0.0
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunbookPassage:
    """A runbook passage memory found close to an incident: a section of the team's own
    runbooks (``aiops kb add``) or a knowledge-base entry the signatures did not already cite.

    ``score`` is the hybrid similarity (0..1) it was retrieved with; only passages above a
    threshold are cited."""

    title: str
    text: str
    source: str  # the runbook file, or ``kb:<entry id>``
    score: float
    line: int | None = None
    entry_id: str | None = None


@dataclass(frozen=True, slots=True)
class SimilarIncident:
    """A past incident (another fingerprint) that memory found close to this one, with how it
    was resolved when someone said so."""

    fingerprint: str
    title: str
    score: float
    domain: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    last_seen: datetime | None = None
    times_seen: int = 1


@dataclass(slots=True)
class ModelProvenance:
    """Which parts of a diagnosis a model wrote (``aiops analyze --llm``), and from what.

    The fixer's diagnosis always comes first; a model's answer replaces its text only after
    passing the checks in ``llm/answer.py``. Reports mark these parts so nobody mistakes a
    model's words for the knowledge base's."""

    provider: str
    model: str
    #: Diagnosis fields the model wrote: title, root_cause, hypotheses, remediation, commands.
    fields: list[str]
    #: The model's own confidence (the diagnosis keeps the fixer's, which rests on evidence).
    confidence: float
    #: The domain the model named (routing is never changed by it).
    domain: str
    #: Evidence-pack ids the answer cites, and what each points to (``E1`` -> ``app.log:12``).
    cited: list[str] = field(default_factory=list)
    citations: dict[str, str] = field(default_factory=dict)
    #: How many leading hypotheses, remediation steps and commands are the model's.
    model_items: dict[str, int] = field(default_factory=dict)
    #: The fixer's title and root cause the model's replaced.
    deterministic: dict[str, str] = field(default_factory=dict)
    #: Answered from the cache or by an identical request of the same run.
    cached: bool = False


@dataclass(slots=True)
class Diagnosis:
    """What a fixer agent concluded about an incident, and what it rests on."""

    agent: str
    title: str
    root_cause: str
    confidence: float
    hypotheses: list[Hypothesis] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    evidence: list[LineRef] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    entry_ids: list[str] = field(default_factory=list)
    second_opinion: str | None = None
    #: Set when the fixer found the incident worse than its signals said (a login that
    #: succeeded after a brute force); the orchestrator raises the incident's severity.
    severity: Severity | None = None
    severity_reason: str | None = None
    #: From memory (when enabled): the closest runbook passages and past incidents, best
    #: first, each above its similarity threshold.
    runbooks: list[RunbookPassage] = field(default_factory=list)
    similar: list[SimilarIncident] = field(default_factory=list)
    #: Set when a model refined this diagnosis (``analyze --llm``): which parts it wrote.
    llm: ModelProvenance | None = None


@dataclass(slots=True)
class TemplateRef:
    """A template as an incident cites it."""

    template_id: str
    template: str
    count: int
    example: str


@dataclass(slots=True)
class TemplateCount:
    """One template as an analysis counted it: how many records, when, and per minute."""

    template_id: str
    template: str
    example: str
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: Epoch minute (``int(ts.timestamp()) // 60``) -> records; empty without timestamps.
    minutes: dict[int, int] = field(default_factory=dict)


class IncidentStatus(StrEnum):
    """Where an incident stands in the store's history."""

    OPEN = "open"  # seen, nobody has said it is fixed
    RESOLVED = "resolved"  # someone said it is fixed (``aiops incidents resolve``)
    RECURRED = "recurred"  # seen again after it was resolved


@dataclass(frozen=True, slots=True)
class IncidentHistory:
    """What the store knew about an incident's fingerprint when this analysis found it again.

    Present only when the fingerprint had been stored before. Times are when analyses saw it
    (UTC), not log times. ``times_seen`` counts this analysis; ``last_seen_at`` is the sighting
    before it. ``same_logs`` is true when this analysis read lines overlapping in time with an
    earlier sighting (the same logs read again, or more of them): that is not a recurrence, so
    it neither counts as a sighting nor reopens a resolved incident.
    """

    times_seen: int
    first_seen_at: datetime
    last_seen_at: datetime
    status: IncidentStatus
    last_resolved_at: datetime | None = None
    last_resolution_note: str | None = None
    same_logs: bool = False


@dataclass(slots=True)
class Incident:
    """Signals grouped into one problem: what, when, where, the lines behind it, and why grouped.

    ``fingerprint`` is stable across runs for the same kind of problem (signature or template,
    service, the variables that matter), so history and feedback can key on it.
    """

    id: str
    fingerprint: str
    title: str
    severity: Severity
    score: float
    signals: list[Signal]
    templates: list[TemplateRef]
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    hosts: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    lines: list[LineRef] = field(default_factory=list)
    entities: dict[str, int] = field(default_factory=dict)
    entry_ids: list[str] = field(default_factory=list)
    grouped_because: list[str] = field(default_factory=list)
    #: Timeline: epoch minute -> records, for charts and bursts.
    minutes: dict[int, int] = field(default_factory=dict)
    #: Linked incidents: ids of the incidents this one causes (symptoms), or is caused by.
    symptoms: list[str] = field(default_factory=list)
    caused_by: str | None = None
    classification: Classification | None = None
    diagnosis: Diagnosis | None = None
    #: Set by the store when the fingerprint was seen by an earlier analysis.
    history: IncidentHistory | None = None

    @property
    def template_ids(self) -> list[str]:
        return [t.template_id for t in self.templates]

    @property
    def text(self) -> str:
        """All the text a classifier or fixer may search: templates and evidence lines."""
        parts = [t.example for t in self.templates] + [ref.text for ref in self.lines]
        return "\n".join(parts)


@dataclass(slots=True)
class AnalysisResult:
    """What one analysis produced: the ranked incidents and a summary of what was read."""

    incidents: list[Incident]
    #: Sources, skipped inputs, totals, levels, top templates, signatures (see report.summary),
    #: plus ``detection``: per-signal-kind counts and the noise suppressed.
    summary: dict[str, Any]
    #: Signals too weak to raise an incident on their own, kept for the curious.
    observations: list[Signal] = field(default_factory=list)
    #: Every template of the analysis with its count and per-minute histogram (the store's
    #: template counts and burst charts read these).
    templates: list[TemplateCount] = field(default_factory=list)
