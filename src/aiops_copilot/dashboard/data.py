"""The dashboard's data: everything it reads from and writes to the store, without Streamlit.

Kept apart from the pages so it can be tested on its own and so the dashboard can never drift
from the CLI and the API: every read goes through :class:`~aiops_copilot.store.Store`, every
verdict through ``Store.give_feedback`` and ``Store.resolve`` (what ``aiops feedback`` and
``aiops incidents resolve`` call), and an uploaded file is analysed by ``aiops analyze`` itself,
in a subprocess, so the dashboard shows exactly what the command line would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiops_copilot.models import Domain, Severity
from aiops_copilot.store.activity import OccurrencePoint, RunSummary
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.schema import STATUSES
from aiops_copilot.store.sql import IncidentDetail, IncidentSummary, Store

#: The environment variable the store location travels in (the CLI's own, see docs/store.md).
DB_ENV = "AIOPS_DB_URL"
UNCLASSIFIED = "unclassified"
SEVERITIES = tuple(s.value for s in sorted(Severity, key=lambda s: -s.rank))
DOMAINS = tuple(d.value for d in Domain)
#: Longest an uploaded file's analysis may take before it is stopped.
ANALYZE_TIMEOUT_S = 600.0


def location() -> str | None:
    """The store the dashboard shows, resolved as every command resolves it: ``AIOPS_DB_URL``
    (``aiops dashboard --db`` sets it for the app), ``store.url``, else the default file."""
    from aiops_copilot.config import ConfigError, load_config

    try:
        return load_config().settings.store.url
    except ConfigError as exc:
        raise StoreError(str(exc)) from None


def open_store(where: str | None) -> Store:
    """The store at ``where``; never creates an empty SQLite file (:class:`StoreError`)."""
    return Store(where, create=False)


# -- overview --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overview:
    statuses: dict[str, int]
    #: Open (or recurred) incidents per domain and per severity.
    open_by_domain: dict[str, int]
    open_by_severity: dict[str, int]
    #: Rows for the chart: time (bucket start), domain, severity, incidents.
    over_time: list[dict[str, Any]]
    #: Width of the chart's buckets: "hour" or "day".
    bucket: str
    #: Rows per run: run, started (UTC), when (a chart label), records, lines, incidents, records/s.
    ingest: list[dict[str, Any]]
    records_total: int
    runs_total: int


def overview(store: Store, *, axis: str = "log") -> Overview:
    """Counts and chart rows for the overview; ``axis`` "log" places each incident at its
    first log time (falling back to when it was analysed), "analysed" at the analysis."""
    incidents = store.incidents(limit=None)
    statuses = Counter(item.status for item in incidents)
    live = [item for item in incidents if item.status != "resolved"]
    by_domain = Counter(item.domain or UNCLASSIFIED for item in live)
    by_severity = Counter(item.severity for item in live)
    points = [p for p in store.occurrence_points() if not p.same_logs]
    rows, bucket = incidents_over_time(points, axis=axis)
    runs = store.runs()
    return Overview(
        statuses={status: statuses.get(status, 0) for status in STATUSES},
        open_by_domain=dict(sorted(by_domain.items(), key=lambda kv: (-kv[1], kv[0]))),
        open_by_severity={s: by_severity[s] for s in SEVERITIES if by_severity.get(s)},
        over_time=rows,
        bucket=bucket,
        ingest=ingest_rows(runs),
        records_total=sum(run.records for run in runs),
        runs_total=len(runs),
    )


def incidents_over_time(
    points: Sequence[OccurrencePoint], *, axis: str = "log"
) -> tuple[list[dict[str, Any]], str]:
    """Occurrences counted per (bucket, domain, severity): hourly over two days or less,
    daily beyond. Times are naive: log times as stored, analysis times in UTC."""
    stamped = [(_when(p, axis), p) for p in points]
    if not stamped:
        return [], "hour"
    times = [when for when, _ in stamped]
    bucket = "hour" if max(times) - min(times) <= timedelta(days=2) else "day"
    counts: Counter[tuple[datetime, str, str]] = Counter()
    for when, point in stamped:
        start = when.replace(minute=0, second=0, microsecond=0)
        if bucket == "day":
            start = start.replace(hour=0)
        counts[(start, point.domain or UNCLASSIFIED, point.severity)] += 1
    step = timedelta(days=1) if bucket == "day" else timedelta(hours=1)
    rows = [
        {"time": label(start, step), "domain": domain, "severity": severity, "incidents": n}
        for (start, domain, severity), n in sorted(counts.items())
    ]
    # Empty buckets as zero rows (of any one series), so a quiet stretch shows as a gap.
    busy = {start for start, _, _ in counts}
    _, domain, severity = min(counts)
    for start, _ in filled(dict.fromkeys(busy, 0), step):
        if start not in busy:
            zero = {"time": label(start, step), "domain": domain, "severity": severity}
            rows.append({**zero, "incidents": 0})
    rows.sort(key=lambda row: str(row["time"]))
    return rows, bucket


#: Most buckets a chart fills with zeros; beyond that only buckets with records are drawn.
MAX_FILLED = 720


def filled(counts: dict[datetime, int], step: timedelta) -> list[tuple[datetime, int]]:
    """``counts`` oldest first, with every empty ``step`` between them as 0 (unless that
    would make more than :data:`MAX_FILLED` buckets)."""
    if not counts:
        return []
    first, last = min(counts), max(counts)
    if (last - first) / step >= MAX_FILLED:
        return sorted(counts.items())
    out = []
    moment = first
    while moment <= last:
        out.append((moment, counts.get(moment, 0)))
        moment += step
    return out


def label(moment: datetime, step: timedelta) -> str:
    """A bucket's name on a chart axis: text, so bars are as wide as the chart allows and
    sort in time order."""
    return f"{moment:%Y-%m-%d}" if step >= timedelta(days=1) else f"{moment:%Y-%m-%d %H:%M}"


def _when(point: OccurrencePoint, axis: str) -> datetime:
    if axis == "log" and point.log_first_seen is not None:
        return point.log_first_seen
    return point.seen_at.replace(tzinfo=None)


def ingest_rows(runs: Iterable[RunSummary]) -> list[dict[str, Any]]:
    """Per run, oldest first: records read and how fast (records over the run's wall time,
    from its start to its commit)."""
    rows = []
    for run in sorted(runs, key=lambda r: (r.started_at, r.id)):
        seconds = (run.stored_at - run.started_at).total_seconds()
        rows.append(
            {
                "run": run.id,
                "started": run.started_at.replace(tzinfo=None),
                "when": f"{run.started_at:%Y-%m-%d %H:%M:%S} #{run.id}",
                "records": run.records,
                "lines": run.lines,
                "incidents": run.incidents,
                "records/s": round(run.records / seconds, 1) if seconds > 0 else None,
            }
        )
    return rows


# -- incidents -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: str | None = None
    domain: str | None = None
    severity: str | None = None
    text: str = ""


def incident_rows(
    store: Store, wanted: IncidentFilter, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Incidents matching ``wanted``, most recently seen first, as table rows. ``text``
    matches the id, the title or the fingerprint, case-insensitively."""
    items = store.incidents(status=wanted.status, domain=_domain_filter(wanted.domain))
    if wanted.domain == UNCLASSIFIED:
        items = [item for item in items if item.domain is None]
    if wanted.severity:
        items = [item for item in items if item.severity == wanted.severity]
    needle = wanted.text.strip().lower()
    if needle:
        items = [item for item in items if needle in _haystack(item)]
    return [incident_row(item) for item in items[:limit]]


def _domain_filter(domain: str | None) -> str | None:
    return None if domain in (None, UNCLASSIFIED) else domain


def _haystack(item: IncidentSummary) -> str:
    return f"{item.id}\n{item.title}\n{item.fingerprint}".lower()


def incident_row(item: IncidentSummary) -> dict[str, Any]:
    return {
        "id": item.id,
        "status": item.status,
        "severity": item.severity,
        "domain": item.domain or UNCLASSIFIED,
        "seen": item.times_seen,
        "last seen (UTC)": item.last_seen_at.replace(tzinfo=None),
        "title": item.title,
    }


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One incident as its page shows it."""

    detail: IncidentDetail
    #: The newest occurrence in the ``analyze --format json`` shape ({} if none).
    latest: dict[str, Any]
    #: Per-minute records of the latest occurrence: minute (log time), records.
    timeline: list[dict[str, Any]]
    #: One row per occurrence, oldest first: analysed (UTC), records, severity, same logs.
    occurrences: list[dict[str, Any]]
    hypotheses: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    similar: list[dict[str, Any]]
    feedback: list[dict[str, Any]] = field(default_factory=list)


def incident_page(store: Store, key: str) -> IncidentPage:
    """The incident ``key`` (id or unique prefix) with everything its page shows."""
    detail = store.incident(key)
    latest = detail.occurrences[0].report if detail.occurrences else {}
    minutes: dict[datetime, int] = {}
    for point in latest.get("timeline") or []:
        try:
            minute = datetime.fromisoformat(str(point["minute"])).replace(tzinfo=None)
            minutes[minute] = minutes.get(minute, 0) + int(point["count"])
        except (KeyError, TypeError, ValueError):
            continue
    step = timedelta(minutes=1)
    timeline = [
        {"minute": label(minute, step), "records": n} for minute, n in filled(minutes, step)
    ]
    occurrences = [
        {
            "run": occ.run_id,
            "analysed (UTC)": occ.seen_at.replace(tzinfo=None),
            "records": occ.count,
            "severity": occ.severity,
            "domain": occ.domain or UNCLASSIFIED,
            "same logs": occ.same_logs,
        }
        for occ in reversed(detail.occurrences)
    ]
    hypotheses = [
        {
            "hypothesis": str(h.get("cause") or ""),
            "status": h.get("status", ""),
            "score": h.get("score"),
            "because": str(h.get("because") or ""),
            "checks": "; ".join(str(c) for c in h.get("checks") or []),
        }
        for h in latest.get("hypotheses") or []
        if isinstance(h, dict)
    ]
    evidence = [
        {
            "where": f"{Path(str(line.get('source'))).name}:{line.get('line_no')}",
            "time": line.get("timestamp") or "",
            "line": str(line.get("text", "")),
        }
        for line in latest.get("evidence_lines") or []
        if isinstance(line, dict)
    ]
    similar = [
        {
            "title": s.get("title", ""),
            "score": s.get("score"),
            "domain": s.get("domain") or UNCLASSIFIED,
            "resolution": s.get("resolution") or "",
            "last seen": s.get("last_seen") or "",
            "fingerprint": s.get("fingerprint", ""),
        }
        for s in latest.get("similar") or []
        if isinstance(s, dict)
    ]
    feedback = [
        {
            "when (UTC)": fb.created_at.replace(tzinfo=None),
            "verdict": fb.kind,
            "domain": fb.domain or "",
            "note": fb.note or "",
        }
        for fb in detail.feedback
    ]
    return IncidentPage(
        detail, latest, timeline, occurrences, hypotheses, evidence, similar, feedback
    )


# -- verdicts (the same writes as ``aiops feedback`` and ``aiops incidents resolve``) ---------


def mark_correct(store: Store, key: str, note: str = "") -> str:
    outcome = store.give_feedback(key, verdict="correct", note=note.strip() or None)
    return f"feedback stored for {outcome.incident_id}: correct"


def mark_wrong(store: Store, key: str, domain: str | None = None, note: str = "") -> str:
    """``aiops feedback ID --wrong [--domain D] [--note N]``."""
    if domain is not None and domain not in DOMAINS:
        raise StoreError(f"domain must be one of {', '.join(DOMAINS)}, not {domain!r}")
    outcome = store.give_feedback(key, verdict="wrong", domain=domain, note=note.strip() or None)
    learned = f"; next time it goes to {domain}" if domain else ""
    return f"feedback stored for {outcome.incident_id}: wrong{learned}"


def resolve(store: Store, key: str, note: str, where: str | None) -> str:
    """``aiops incidents resolve ID --note N``: the store, then vector memory (best effort),
    so similar incidents found later cite how this one was fixed, then the notify targets
    that were paged about it."""
    if not note.strip():
        raise StoreError("say what fixed it: the note is shown when it recurs")
    item = store.resolve(key, note.strip())
    remembered = remember_resolution(where, item.fingerprint, note.strip())
    said = f"{item.id} resolved: {note.strip()}" + ("" if remembered else " (memory not updated)")
    notified = notify_resolution(where, item.id)
    return f"{said}; {notified}" if notified else said


def notify_resolution(where: str | None, incident_id: str) -> str | None:
    """The CLI's own hook (``store.cli.notify_resolution``); a line when it could not run."""
    from aiops_copilot.store.cli import notify_resolution as notify

    try:
        return notify(where, incident_id)
    except (Exception, SystemExit):  # typer.Exit on a broken config or store
        return "notify targets not told"


def remember_resolution(where: str | None, fingerprint: str, note: str) -> bool:
    """The CLI's own hook (``store.cli._remember_resolution``); False when it could not run."""
    from aiops_copilot.store.cli import _remember_resolution

    try:
        _remember_resolution(where, fingerprint, note)
    except (Exception, SystemExit):  # typer.Exit on a broken config, or memory's own errors
        return False
    return True


# -- templates -------------------------------------------------------------------------------


def template_rows(
    store: Store, *, search: str = "", new_only: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "records": t.total,
            "runs": t.runs,
            "new": t.new,
            "template": t.template,
            "example": t.example,
            "first stored (UTC)": t.first_seen_at.replace(tzinfo=None),
            "last log time": t.log_last_seen,
        }
        for t in store.templates(limit=limit, search=search.strip() or None, new_only=new_only)
    ]


def series_rows(store: Store, template_id: str) -> tuple[list[dict[str, Any]], int]:
    """A template's burst chart rows (time, records) and the bucket width in minutes."""
    series = store.template_series(template_id)
    step = timedelta(minutes=series.bucket_minutes)
    points = filled(dict(series.points), step)
    return [{"time": label(when, step), "records": n} for when, n in points], series.bucket_minutes


# -- analysing an uploaded file ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnalyzeOutcome:
    report: dict[str, Any] | None
    error: str | None = None
    stored: bool = False
    #: ``aiops: warning:`` lines of the analysis (a store that could not be written ...).
    warnings: tuple[str, ...] = ()


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def analyze_upload(
    name: str,
    content: bytes,
    *,
    where: str | None,
    store: bool,
    timeout: float = ANALYZE_TIMEOUT_S,
) -> AnalyzeOutcome:
    """Run ``aiops analyze --format json`` on an uploaded file, storing the run in ``where``
    when ``store`` is set: the command line's own analysis, nothing re-implemented."""
    if not content:
        return AnalyzeOutcome(None, f"{name or 'the file'} is empty")
    safe = _SAFE_NAME.sub("_", Path(name).name).strip("._") or "upload.log"
    with tempfile.TemporaryDirectory(prefix="aiops-upload-") as folder:
        target = Path(folder) / safe
        target.write_bytes(content)
        command = [sys.executable, "-m", "aiops_copilot", "analyze", "--format", "json"]
        command += ["--fail-on", "never"]
        if store:
            command += ["--db", where] if where else []
        else:
            command += ["--no-store"]
        command.append(str(target))
        try:
            proc = subprocess.run(
                command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            return AnalyzeOutcome(None, f"the analysis took longer than {timeout:.0f} s")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        return AnalyzeOutcome(None, _error_line(stderr) or f"aiops exited with {proc.returncode}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return AnalyzeOutcome(None, _error_line(stderr) or "aiops printed no JSON report")
    warnings = tuple(
        line.strip().removeprefix("aiops: warning: ")
        for line in stderr.splitlines()
        if line.startswith("aiops: warning: ")
    )
    stored = store and not any(w.startswith("not stored") for w in warnings)
    return AnalyzeOutcome(report, None, stored, warnings)


def _error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("aiops: "):
            return line.removeprefix("aiops: ").removeprefix("error: ")
    return lines[-1] if lines else ""


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """An analysis report's incidents as table rows, worst first (as the report ranks them)."""
    return [
        {
            "id": item.get("id"),
            "severity": item.get("severity"),
            "domain": item.get("domain") or UNCLASSIFIED,
            "records": item.get("count"),
            "confidence": item.get("confidence"),
            "title": item.get("title"),
            "root cause": item.get("root_cause") or "",
        }
        for item in report.get("incidents") or []
        if isinstance(item, dict)
    ]
