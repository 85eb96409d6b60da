"""What ``aiops watch`` shows: a live board on a terminal, one line per change elsewhere.

On a terminal the board is redrawn in place (rich ``Live``): open incidents, worst and most
recent first, under a status line (records, templates, windows, files). Piped or redirected,
the output is a log a person or a script can follow: one line per new or reopened incident,
nothing redrawn, flushed at once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from aiops_copilot.live.follow import FollowedFile
from aiops_copilot.live.pipeline import NEW, REOPENED, LiveIncident, LiveStats
from aiops_copilot.models import Incident, Severity
from aiops_copilot.report.terminal import SEVERITY_STYLE
from aiops_copilot.report.view import UNCLASSIFIED, domain_of, printable, title_of, when

#: Rows on the board; the rest are counted under it.
BOARD_ROWS = 30


def status_line(stats: LiveStats, files: Sequence[FollowedFile], listeners: Sequence[str]) -> Text:
    parts = [
        f"{stats.records_ingested:,} records",
        f"{stats.templates:,} templates",
        f"{stats.windows:,} windows",
        f"{stats.incidents_open:,} open",
    ]
    if stats.parse_errors:
        parts.append(f"{stats.parse_errors:,} malformed")
    if stats.windows:
        parts.append(f"last window {stats.last_window_seconds:.2f}s")
    following = [f for f in files if f.state != "waiting"]
    waiting = len(files) - len(following)
    where = [f"{len(following)} file(s)"] if files else []
    if waiting:
        where.append(f"{waiting} waited for")
    where += list(listeners)
    return Text(" · ".join(parts) + ("  —  " + ", ".join(where) if where else ""), style="dim")


def board(
    incidents: Sequence[LiveIncident],
    stats: LiveStats,
    files: Sequence[FollowedFile],
    listeners: Sequence[str],
) -> RenderableType:
    """The live board: a status line and the open incidents."""
    table = Table(expand=True, show_edge=False, pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("domain", no_wrap=True)
    table.add_column("title", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("last seen", no_wrap=True)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("", no_wrap=True)
    for item in incidents[:BOARD_ROWS]:
        severity = Severity(item.severity)
        table.add_row(
            Text(item.severity.upper(), style=SEVERITY_STYLE[severity]),
            item.domain or UNCLASSIFIED,
            Text(printable(item.title)),
            f"{item.count:,}",
            when(item.last_seen),
            item.id,
            Text(item.change, style="bold" if item.change in (NEW, REOPENED) else "dim"),
        )
    parts: list[RenderableType] = [status_line(stats, files, listeners)]
    if incidents:
        parts.append(table)
        if len(incidents) > BOARD_ROWS:
            parts.append(Text(f"… and {len(incidents) - BOARD_ROWS} more", style="dim"))
    else:
        parts.append(Text("No open incidents.", style="green"))
    return Group(*parts)


def incident_line(incident: Incident, change: str, now: datetime | None = None) -> str:
    """One line for a log: time, change, id, severity, domain, title, records, last seen."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    title = printable(title_of(incident)).replace("\n", " ")
    return (
        f"{moment} {change} {incident.id} {incident.severity.value} "
        f"{domain_of(incident) or UNCLASSIFIED} {title} "
        f"({incident.count:,} records, last seen {when(incident.last_seen or incident.first_seen)})"
    )


class LinePrinter:
    """Prints new and reopened incidents as they are found, from whichever thread concluded
    the window (the follower loop, or a syslog thread on a full window)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def __call__(self, incident: Incident, change: str) -> None:
        if change not in (NEW, REOPENED):
            return
        line = incident_line(incident, change)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
