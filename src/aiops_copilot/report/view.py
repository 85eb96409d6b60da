"""What every incident renderer shows, derived in one place.

The JSON contract, the terminal, Markdown and HTML reports must agree on an incident's domain,
title, evidence and headline counts; deriving them here (once, typed) keeps the four renderers
from drifting apart when the rules change (say, which evidence lines count as "key").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiops_copilot.models import (
    AnalysisResult,
    Classification,
    Domain,
    Hypothesis,
    HypothesisStatus,
    Incident,
    IncidentHistory,
    IncidentStatus,
    LineRef,
    Severity,
)

#: Worst first, the order every report lists severities in.
SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)

#: Short markers that carry a hypothesis' status without colour (a log shipped to a ticket).
STATUS_MARK: dict[HypothesisStatus, str] = {
    HypothesisStatus.SUPPORTED: "✔",
    HypothesisStatus.POSSIBLE: "?",
    HypothesisStatus.RULED_OUT: "✘",
}

UNCLASSIFIED = "unclassified"


def domain_of(incident: Incident) -> str | None:
    """The classifier's top domain, else the domain the diagnosing agent is named after.

    An incident nobody classified or diagnosed has no domain (``None``); renderers say
    "unclassified" rather than guess.
    """
    if incident.classification is not None and incident.classification.scores:
        return incident.classification.top.value
    if incident.diagnosis is not None:
        agent = incident.diagnosis.agent.lower()
        for domain in Domain:
            if agent == domain.value or agent.startswith(domain.value):
                return domain.value
    return None


def title_of(incident: Incident) -> str:
    """The fixer's title when there is a diagnosis (it names the cause), else the grouping's."""
    if incident.diagnosis is not None and incident.diagnosis.title:
        return incident.diagnosis.title
    return incident.title


def evidence_of(incident: Incident, limit: int | None = None) -> list[LineRef]:
    """The key raw lines: those the diagnosis rests on, else the first lines behind the incident."""
    refs: Sequence[LineRef] = ()
    if incident.diagnosis is not None:
        refs = incident.diagnosis.evidence
    if not refs:
        refs = incident.lines
    return list(refs if limit is None else refs[:limit])


def places_of(incident: Incident) -> list[tuple[str, list[str]]]:
    """Where the incident happened: its services, hosts and sources, in that order, each
    with its label, leaving out the kinds it has none of (so no report prints an empty one)."""
    places = (
        ("services", incident.services),
        ("hosts", incident.hosts),
        ("sources", incident.sources),
    )
    return [(label, list(values)) for label, values in places if values]


def references_of(incident: Incident) -> list[str]:
    """The diagnosis' references (documentation, URLs); an undiagnosed incident has none."""
    return list(incident.diagnosis.references) if incident.diagnosis is not None else []


def status_words(status: HypothesisStatus) -> str:
    """A hypothesis status as words: ``ruled out``, not the enum's ``ruled_out``."""
    return status.value.replace("_", " ")


def confidence_of(incident: Incident) -> float:
    """The diagnosis' confidence clamped to 0..1 (0 without one), whatever a fixer wrote."""
    if incident.diagnosis is None:
        return 0.0
    value = float(incident.diagnosis.confidence)
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def entry_ids_of(incident: Incident) -> list[str]:
    """Knowledge-base entries behind the incident: the grouping's and the diagnosis', no repeats."""
    ids = list(incident.entry_ids)
    if incident.diagnosis is not None:
        ids += incident.diagnosis.entry_ids
    return list(dict.fromkeys(ids))


def history_line(history: IncidentHistory | None) -> str | None:
    """``seen 4 times since 2026-11-02, last resolved by: <note> — recurred`` for an incident
    an earlier analysis stored; ``None`` for one seen for the first time (or no store)."""
    if history is None:
        return None
    text = f"seen {plural(history.times_seen, 'time')} since {day(history.first_seen_at)}"
    if history.same_logs:
        text = f"stored before from these same logs; {text}"
    if history.last_resolution_note:
        text += f", last resolved by: {history.last_resolution_note}"
        if history.last_resolved_at is not None:
            text += f" ({day(history.last_resolved_at)})"
    elif history.last_resolved_at is not None:
        text += f", last resolved {day(history.last_resolved_at)}"
    if history.status is IncidentStatus.RECURRED:
        text += " — recurred"
    elif history.status is IncidentStatus.RESOLVED:
        text += " — resolved"
    return text


def day(moment: datetime) -> str:
    """A date for history lines: ``2026-11-02`` (UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d")


def hypotheses_of(incident: Incident, limit: int | None = None) -> list[Hypothesis]:
    """The fixer's hypotheses in the fixer's own ranking (it knows why one beats another)."""
    if incident.diagnosis is None:
        return []
    hyps = incident.diagnosis.hypotheses
    return list(hyps if limit is None else hyps[:limit])


def severity_counts(incidents: Iterable[Incident]) -> dict[Severity, int]:
    """Incidents per severity, worst first, only the severities present."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for incident in incidents:
        counts[incident.severity] += 1
    return {sev: n for sev, n in counts.items() if n}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def incidents_line(result: AnalysisResult) -> str:
    """``3 incidents: 1 critical, 2 high`` or ``No incidents``."""
    if not result.incidents:
        return "No incidents"
    parts = [f"{n} {sev.value}" for sev, n in severity_counts(result.incidents).items()]
    return f"{plural(len(result.incidents), 'incident')}: {', '.join(parts)}"


def reading_line(summary: Mapping[str, Any]) -> str | None:
    """``12,345 lines read from 4 sources (1 skipped)``, from the summary's totals if any."""
    totals = summary.get("totals")
    if not isinstance(totals, Mapping):
        return None
    lines = _int(totals.get("lines"))
    sources = _int(totals.get("sources"))
    text = f"{plural(lines, 'line')} read from {plural(sources, 'source')}"
    skipped = _int(totals.get("skipped"))
    if skipped:
        text += f" ({skipped:,} skipped)"
    return text


def source_names(summary: Mapping[str, Any], limit: int = 3) -> list[str]:
    """The source names for the one-line header, when there are few enough to read there.

    More than ``limit`` would swamp the line; the reading summary lists them all.
    """
    sources = summary.get("sources")
    if not isinstance(sources, list):
        return []
    names = [str(s.get("source", "")) for s in sources if isinstance(s, Mapping)]
    return names if len(names) <= limit else []


def headline(result: AnalysisResult) -> str:
    """The one line every report opens with: what was found and how much was read."""
    parts = [incidents_line(result)]
    reading = reading_line(result.summary)
    if reading:
        parts.append(reading)
    names = source_names(result.summary)
    if names:
        parts.append(", ".join(names))
    return " · ".join(parts)


def detection_line(summary: Mapping[str, Any]) -> str | None:
    """The ``detection`` block (signals per kind, noise suppressed) as one short line.

    The orchestrator owns the block's shape, so this reads it generically: numbers print as
    ``name N``, a mapping of numbers as ``name: k N, k N``.
    """
    detection = summary.get("detection")
    if not isinstance(detection, Mapping) or not detection:
        return None
    parts: list[str] = []
    for key, value in detection.items():
        name = str(key).replace("_", " ")
        if isinstance(value, Mapping):
            inner = ", ".join(f"{k} {_fmt_number(v)}" for k, v in value.items())
            parts.append(f"{name}: {inner}" if inner else f"{name}: none")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{name}: {', '.join(str(v) for v in value)}")
        else:
            parts.append(f"{name} {_fmt_number(value)}")
    return "; ".join(parts)


# C0 controls (bar tab and newline) as their Unicode "control pictures", DEL and C1 as escapes.
_CONTROLS = {c: chr(0x2400 + c) for c in range(0x20) if chr(c) not in "\t\n"}
_CONTROLS[0x7F] = "\u2421"
_CONTROLS.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})


def printable(text: str) -> str:
    """Log text made safe to show: no escape sequence can recolour or retitle a terminal.

    Rich drops a few control characters but passes ESC through, so a log line holding
    ``\x1b]0;...`` would reach the terminal as a command; here it becomes ``␛]0;...``.
    """
    return text.replace("\r\n", "\n").translate(_CONTROLS)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def when(moment: datetime | None) -> str:
    """A timestamp for people: seconds precision, the zone only when the source gave one."""
    if moment is None:
        return "unknown"
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.tzinfo is not None:
        offset = moment.strftime("%z")
        text += " UTC" if offset in ("+0000", "") else f" {offset[:3]}:{offset[3:]}"
    return text


def minute_label(epoch_minute: int) -> str:
    return datetime.fromtimestamp(epoch_minute * 60, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def classifier_scores(classification: Classification | None, limit: int = 3) -> str:
    """``database 0.82, network 0.31``: the best few domains with their scores."""
    if classification is None:
        return ""
    ranked = [(d, s) for d, s in classification.ranked if s > 0][:limit]
    return ", ".join(f"{d.value} {s:.2f}" for d, s in ranked)


def top_reasons(classification: Classification | None, limit: int = 3) -> list[str]:
    """Why the classifier picked its top domain, the first few reasons."""
    if classification is None or not classification.scores:
        return []
    return list(classification.reasons.get(classification.top, [])[:limit])


@dataclass(frozen=True, slots=True)
class Timeline:
    """Records per time bin: ``counts[i]`` covers ``width`` minutes from ``start + i*width``."""

    start: int
    width: int
    counts: list[int]

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    @property
    def end(self) -> int:
        """The first epoch minute after the last bin."""
        return self.start + self.width * len(self.counts)

    def bin_start(self, index: int) -> int:
        return self.start + index * self.width


def timeline(minutes: Mapping[int, int], max_bins: int = 60) -> Timeline | None:
    """Bin an incident's per-minute counts into at most ``max_bins`` equal bins.

    A burst over three minutes and a trickle over three days both fit one small chart; bins
    are whole minutes so a label never splits a minute. ``None`` when nothing had a time.
    """
    if not minutes:
        return None
    first, last = min(minutes), max(minutes)
    span = last - first + 1
    width = max(1, math.ceil(span / max(1, max_bins)))
    counts = [0] * math.ceil(span / width)
    for minute, count in minutes.items():
        counts[(minute - first) // width] += count
    return Timeline(start=first, width=width, counts=counts)


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(line: Timeline) -> str:
    """The timeline as block characters, empty bins as spaces, for the terminal."""
    peak = line.peak or 1
    out = []
    for count in line.counts:
        if count == 0:
            out.append(" ")
        else:
            out.append(_SPARKS[min(len(_SPARKS) - 1, (count * len(_SPARKS) - 1) // peak)])
    return "".join(out)


def span_words(minutes: int) -> str:
    if minutes < 60:
        return plural(minutes, "minute")
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} hours".replace(".0 ", " ")
    return f"{minutes / 1440:.1f} days".replace(".0 ", " ")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _fmt_number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
