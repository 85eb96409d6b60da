"""What watch shows: the board on a terminal, one line per change in a log."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from aiops_copilot.live.follow import FollowedFile
from aiops_copilot.live.pipeline import LiveIncident, LiveStats
from aiops_copilot.live.view import LinePrinter, board, incident_line
from aiops_copilot.models import Incident, Severity

SEEN = datetime(2026, 11, 23, 23, 23, 53, tzinfo=UTC)


def _live(n: int, severity: str, change: str = "new") -> LiveIncident:
    return LiveIncident(
        id=f"INC-{n:010x}", fingerprint=f"fp{n}", severity=severity, domain="database",
        title=f"problem \x1b]0;pwned\x07 {n}", count=14 * n, first_seen=SEEN, last_seen=SEEN,
        updated_at=SEEN, change=change,
    )  # fmt: skip


def _render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text)


def test_the_board_lists_open_incidents_under_a_status_line() -> None:
    stats = LiveStats(records_ingested=1234, templates=19, windows=3, incidents_open=2,
                      parse_errors=2, last_window_seconds=0.25)  # fmt: skip
    files = [FollowedFile("pg.log", "postgresql", 10, "following"),
             FollowedFile("b.log", "", 0, "waiting")]  # fmt: skip
    text = _render(board([_live(1, "high"), _live(2, "low", "updated")], stats, files,
                         ["syslog+udp://127.0.0.1:5514"]))  # fmt: skip
    first = text.splitlines()[0]
    assert "1,234 records" in first and "2 malformed" in first and "last window 0.25s" in first
    assert "1 file(s), 1 waited for, syslog+udp://127.0.0.1:5514" in first
    assert "HIGH" in text and "INC-0000000001" in text and "28" in text
    assert "\x1b]0;" not in text  # log text cannot command the terminal
    assert "No open incidents." in _render(board([], LiveStats(), [], []))


def test_the_board_shows_the_first_rows_and_counts_the_rest() -> None:
    many = [_live(n, "medium") for n in range(1, 40)]
    assert "… and 9 more" in _render(board(many, LiveStats(), [], []))


def test_one_line_per_new_or_reopened_incident() -> None:
    incident = Incident(
        id="INC-b172b757c3", fingerprint="fp", title="PostgreSQL: no free connection slots",
        severity=Severity.HIGH, score=0.9, signals=[], templates=[], count=14,
        first_seen=SEEN, last_seen=SEEN,
    )  # fmt: skip
    now = datetime(2026, 11, 24, 2, 47, 51, tzinfo=UTC)
    assert incident_line(incident, "new", now) == (
        "2026-11-24T02:47:51Z new INC-b172b757c3 high unclassified PostgreSQL: no free "
        "connection slots (14 records, last seen 2026-11-23 23:23:53 UTC)"
    )
    out = io.StringIO()
    printer = LinePrinter(out)
    printer(incident, "new")
    printer(incident, "updated")  # not news
    printer(incident, "reopened")
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["new", "reopened"]
