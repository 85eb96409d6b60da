"""How the history commands show what the store holds: plain JSON types, and rich text.

JSON output is built field by field (like the analyze contract) so a renamed attribute can
never silently rename a key a script depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiops_copilot.report.view import UNCLASSIFIED, iso, printable
from aiops_copilot.store.sql import (
    FeedbackView,
    IncidentDetail,
    IncidentSummary,
    OccurrenceView,
    PruneResult,
    StoreStats,
)

#: Occurrences ``incidents show`` lists before "… N more".
SHOWN_OCCURRENCES = 20
#: Evidence lines ``incidents show`` prints from the latest occurrence.
SHOWN_EVIDENCE = 5

STATUS_STYLE = {"open": "yellow", "resolved": "green", "recurred": "bold red"}


def summary_to_dict(item: IncidentSummary) -> dict[str, Any]:
    return {
        "id": item.id,
        "fingerprint": item.fingerprint,
        "domain": item.domain,
        "severity": item.severity,
        "title": item.title,
        "status": item.status,
        "times_seen": item.times_seen,
        "first_seen_at": iso(item.first_seen_at),
        "last_seen_at": iso(item.last_seen_at),
        "log_first_seen": iso(item.log_first_seen),
        "log_last_seen": iso(item.log_last_seen),
        "resolved_at": iso(item.resolved_at),
        "resolution_note": item.resolution_note,
    }


def occurrence_to_dict(item: OccurrenceView) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "seen_at": iso(item.seen_at),
        "same_logs": item.same_logs,
        "severity": item.severity,
        "domain": item.domain,
        "title": item.title,
        "count": item.count,
        "log_first_seen": iso(item.log_first_seen),
        "log_last_seen": iso(item.log_last_seen),
        "sources": list(item.report.get("sources") or []),
    }


def feedback_to_dict(item: FeedbackView) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "domain": item.domain,
        "merge_into": item.merge_into,
        "note": item.note,
        "created_at": iso(item.created_at),
    }


def detail_to_dict(detail: IncidentDetail) -> dict[str, Any]:
    """``incident`` (the row), ``latest`` (the newest occurrence in the analyze contract's
    shape), ``occurrences`` (newest first) and ``feedback``."""
    latest = detail.occurrences[0].report if detail.occurrences else None
    return {
        "incident": summary_to_dict(detail.incident),
        "latest": latest,
        "occurrences": [occurrence_to_dict(o) for o in detail.occurrences],
        "feedback": [feedback_to_dict(f) for f in detail.feedback],
    }


def stats_to_dict(stats: StoreStats) -> dict[str, Any]:
    return {
        "location": stats.location,
        "backend": stats.backend,
        "schema": stats.schema,
        "size_bytes": stats.size_bytes,
        "counts": dict(stats.counts),
        "incident_statuses": dict(stats.statuses),
        "oldest_run": iso(stats.oldest_run),
        "newest_run": iso(stats.newest_run),
    }


def prune_to_dict(result: PruneResult) -> dict[str, Any]:
    return {
        "cutoff": iso(result.cutoff),
        "runs": result.runs,
        "occurrences": result.occurrences,
        "incidents": result.incidents,
        "templates": result.templates,
        "vacuumed": result.vacuumed,
    }


def moment(value: datetime | None) -> str:
    """Stored times for people: minutes are enough, always UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def log_moment(value: datetime | None) -> str:
    """A log time as stored (UTC when its source had a zone, else the source's own clock)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def render_list(items: Sequence[IncidentSummary], console: Console) -> None:
    """One line per incident, the title last so a narrow terminal wraps only the title."""
    if not items:
        console.print("No stored incidents match.")
        return
    id_width = max(len("id"), *(len(item.id) for item in items))
    header = (
        f"{'id':<{id_width}}  {'status':<8}  {'severity':<8}  {'domain':<14}  "
        f"{'seen':>5}  {'last seen (UTC)':<16}  title"
    )
    console.print(Text(f"{len(items)} incident(s)", style="bold"))
    console.print(Text(header, style="bold"), overflow="ellipsis", no_wrap=True)
    for item in items:
        line = Text(f"{item.id:<{id_width}}  ")
        line.append(f"{item.status:<8}", STATUS_STYLE.get(item.status, ""))
        line.append(
            f"  {item.severity:<8}  {item.domain or UNCLASSIFIED:<14}  {item.times_seen:>5,}  "
            f"{item.last_seen_at.strftime('%Y-%m-%d %H:%M'):<16}  "
        )
        line.append(printable(item.title))
        console.print(line)


def render_detail(detail: IncidentDetail, console: Console) -> None:
    item = detail.incident
    head = Text(f"{item.id} · {item.severity} · {item.domain or UNCLASSIFIED} · ", style="bold")
    head.append(item.status, STATUS_STYLE.get(item.status, ""))
    console.print(head)
    console.print(Text(printable(item.title), style="bold"))
    lines = [
        f"fingerprint: {item.fingerprint}",
        f"seen {item.times_seen:,} time(s): first {moment(item.first_seen_at)}, "
        f"last {moment(item.last_seen_at)}",
    ]
    if item.log_first_seen is not None:
        lines.append(
            f"log times: {log_moment(item.log_first_seen)} .. {log_moment(item.log_last_seen)}"
        )
    if item.resolved_at is not None:
        lines.append(f"resolved {moment(item.resolved_at)}: {item.resolution_note or ''}")
    for line in lines:
        console.print(Text(printable(line)))
    if detail.occurrences:
        _latest(detail.occurrences[0], console)
        _occurrences(detail.occurrences, console)
    if detail.feedback:
        console.print(Text(f"Feedback ({len(detail.feedback)})", style="bold"))
        for fb in detail.feedback:
            extra = ", ".join(
                part
                for part in (
                    f"domain {fb.domain}" if fb.domain else "",
                    f"merge into {fb.merge_into}" if fb.merge_into else "",
                    fb.note or "",
                )
                if part
            )
            console.print(Text(printable(f"  {moment(fb.created_at)} {fb.kind} {extra}")))


def _latest(occurrence: OccurrenceView, console: Console) -> None:
    report = occurrence.report
    console.print(
        Text(f"Latest diagnosis (run {occurrence.run_id}, {moment(occurrence.seen_at)})", "bold")
    )
    if report.get("agent"):
        console.print(
            Text(f"  agent {report['agent']}, confidence {float(report.get('confidence', 0)):.0%}")
        )
    if report.get("root_cause"):
        console.print(Text(printable(f"  Root cause: {report['root_cause']}")))
    for number, step in enumerate(report.get("remediation") or [], start=1):
        console.print(Text(printable(f"  {number}. {step}")))
    evidence = report.get("evidence_lines") or []
    if evidence:
        console.print(Text("  Evidence", style="bold"))
        for line in evidence[:SHOWN_EVIDENCE]:
            where = f"{line.get('source')}:{line.get('line_no')}"
            text = str(line.get("text", "")).splitlines()[:1]
            console.print(Text(printable(f"    {where} {text[0] if text else ''}")))


def _occurrences(occurrences: Sequence[OccurrenceView], console: Console) -> None:
    table = Table(title=f"Occurrences ({len(occurrences)})", title_justify="left")
    for column in ("run", "analysed", "severity", "domain", "records", "log window", "note"):
        table.add_column(column, overflow="fold")
    for occ in occurrences[:SHOWN_OCCURRENCES]:
        window = (
            f"{log_moment(occ.log_first_seen)} .. {log_moment(occ.log_last_seen)}"
            if occ.log_first_seen
            else "-"
        )
        table.add_row(
            str(occ.run_id),
            moment(occ.seen_at),
            occ.severity,
            occ.domain or UNCLASSIFIED,
            f"{occ.count:,}",
            window,
            "same logs again" if occ.same_logs else "",
        )
    console.print(table)
    hidden = len(occurrences) - SHOWN_OCCURRENCES
    if hidden > 0:
        console.print(Text(f"… {hidden} older occurrence(s); --format json lists them all"))


def render_stats(stats: StoreStats, console: Console) -> None:
    size = f", {_bytes(stats.size_bytes)}" if stats.size_bytes is not None else ""
    console.print(Text(f"store: {stats.location} ({stats.backend}, schema {stats.schema}{size})"))
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.statuses.items()))
    parts = []
    for name, count in stats.counts.items():
        part = f"{name} {count:,}"
        if name == "incidents" and statuses:
            part += f" ({statuses})"
        parts.append(part)
    console.print(Text(" · ".join(parts)))
    console.print(
        Text(f"oldest run {moment(stats.oldest_run)} · newest run {moment(stats.newest_run)}")
    )


def render_prune(result: PruneResult, console: Console) -> None:
    console.print(
        Text(
            f"pruned runs before {moment(result.cutoff)}: {result.runs:,} run(s), "
            f"{result.occurrences:,} occurrence(s), {result.incidents:,} incident(s), "
            f"{result.templates:,} template(s) removed"
            + ("; database vacuumed" if result.vacuumed else "")
        )
    )


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
