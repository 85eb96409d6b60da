"""The rich terminal report: complete, literal with hostile text, readable without colour."""

from __future__ import annotations

import io
import re

import pytest
from report_samples import SAMPLES, bare_incident, empty_result, full_result, hostile_result
from rich.console import Console

from aiops_copilot.models import AnalysisResult, LineRef, Severity, Signal, SignalKind
from aiops_copilot.report.terminal import render_terminal, render_text, signal_kinds

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _flat(text: str) -> str:
    """The report's words with box drawing and wrapping removed, for phrase checks."""
    text = re.sub(r"[│╭╮╰╯─]", " ", text)
    return " ".join(text.split())


def test_header_counts_and_reading_summary() -> None:
    out = render_text(full_result(), width=120)
    first = out.splitlines()[0]
    assert first.startswith("3 incidents: 1 critical, 1 high, 1 low")
    assert "2,400 lines read from 2 sources" in first
    assert "noise suppressed 1,520" in out


@pytest.mark.parametrize(
    "phrase",
    [
        "CRITICAL #1 · database · agent database · confidence 86%",
        "PostgreSQL ran out of connection slots",
        "412 records",
        "first 2026-11-23 23:24:01 UTC",
        "services postgresql, order-report-svc",
        "hosts db-1",
        "Root cause: order-report-svc opens a connection per request",
        "✔ supported Connection leak in order-report-svc",
        "? possible max_connections too low for the load",
        "✘ ruled out Long-running queries hold slots",
        "Hypotheses (top 3, 1 more)",
        "1. Roll back 1.4.3",
        "2. Put a pool (PgBouncer) in front of PostgreSQL",
        "$ psql -c 'SELECT count(*), application_name FROM pg_stat_activity GROUP BY 2'",
        "postgresql.log:120",
        "Evidence (first 5 of 12)",
        "• same signature postgresql-too-many-clients",
        "Symptoms: inc-net-2",
        "Caused by: inc-db-1",
        "Classifier: database 0.88, network 0.31 — signature postgresql-too-many-clients",
        "timeline",
        "Knowledge base: postgresql-too-many-clients",
        "HIGH #2 · network",
        "No fixer diagnosis",
        "severity 0.70 level ERROR",
        "LOW #3 · unclassified",
        "1 record · first unknown",
    ],
)
def test_incident_panels_show_everything_asked(phrase: str) -> None:
    assert phrase in _flat(render_text(full_result(), width=160))


def test_only_top_hypotheses_and_some_evidence() -> None:
    out = render_text(full_result(), width=160)
    assert "Fourth idea" not in out
    assert "postgresql.log:124" in out
    assert "postgresql.log:125" not in out


def test_markup_in_log_text_prints_literally() -> None:
    out = _flat(render_text(hostile_result(), width=200))
    for literal in (
        "[bold red]boom[/bold red] [/]",
        "<script>alert('title')</script> [bold]T[/bold]",
        "[link=http://x]y[/link]",
        "svc[bold]",
        "[dim]b[/dim]",
        "<img src=x> [b]",
    ):
        assert literal in out


def test_escape_sequences_from_logs_never_reach_the_terminal() -> None:
    out = render_text(hostile_result(), width=200, color=True)
    assert "␛[31mansi" in out
    # The only escape sequences are rich's own SGR colour codes.
    assert "\x1b[31mansi" not in out
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", out)


def test_stack_trace_is_shortened() -> None:
    out = render_text(hostile_result(), width=200)
    assert "app.log:10-15" in out
    assert "at com.shop.Server.run(Server.java:88)" in out
    assert "Thread.start" not in out
    assert "… 2 more lines" in out


def test_plain_without_colour_and_coloured_on_request() -> None:
    plain = render_text(full_result())
    assert not ANSI.search(plain)
    assert "CRITICAL" in plain  # severity is a word, not only a colour
    assert ANSI.search(render_text(full_result(), color=True))


def test_no_incidents_says_so_and_shows_what_was_read() -> None:
    out = render_text(empty_result(), width=160)
    assert "No incidents found." in out
    assert "Sources" in out and "logs/postgresql.log" in out
    assert "2,390 records from 2,400 lines" in out
    assert "skipped logs/core.bin: binary file" in out
    assert "Known error signatures seen" in out


def test_skipped_inputs_go_to_the_error_console() -> None:
    out, err = io.StringIO(), io.StringIO()
    render_terminal(
        empty_result(),
        Console(file=out, width=120, no_color=True),
        err=Console(file=err, width=120, no_color=True),
    )
    assert "binary file" in err.getvalue()
    assert "binary file" not in out.getvalue()


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("width", [40, 80, 200])
def test_every_sample_renders_at_any_width(name: str, width: int) -> None:
    out = render_text(SAMPLES[name](), width=width)
    assert out.strip()


def test_empty_summary_still_answers() -> None:
    out = render_text(AnalysisResult([], {}))
    assert out.splitlines() == ["No incidents", "No incidents found."]


def _with_evidence(*sources: str) -> AnalysisResult:
    incident = bare_incident()
    incident.lines = [LineRef(src, 7 + i, 7 + i, f"line {i}") for i, src in enumerate(sources)]
    return AnalysisResult([incident], {})


@pytest.mark.parametrize(
    ("sources", "shown", "hidden"),
    [
        # File names alone when they tell the lines apart (full paths are in the facts line).
        (
            ["/var/log/a/postgresql.log", "/srv/app.log"],
            ["postgresql.log:7", "app.log:8"],
            ["/var/log/a/postgresql.log:7"],
        ),
        # The same file name in two folders: the full paths stay.
        (["/h1/syslog", "/h2/syslog"], ["/h1/syslog:7", "/h2/syslog:8"], []),
        # Too long to sit beside the line: above it, whole, never folded mid-path.
        (
            ["/x/" + "d" * 40 + "/very-long-service-name-with-a-long-log-file-name.log"],
            ["\nvery-long-service-name-with-a-long-log-file-name.log:7\nline 0"],
            ["/x/d"],
        ),
    ],
)
def test_evidence_locations(sources: list[str], shown: list[str], hidden: list[str]) -> None:
    out = "\n".join(
        line.strip("│ ").rstrip() for line in render_text(_with_evidence(*sources)).splitlines()
    )
    for text in shown:
        assert text in out
    for text in hidden:
        assert text not in out


def test_signal_line_names_each_kind_once() -> None:
    """Beside a diagnosis: each kind once, its best score and how many templates raised it."""

    def raised(kind: SignalKind, score: float, template: str) -> Signal:
        return Signal(kind, template, score, "why", Severity.HIGH)

    found = bare_incident()
    found.signals = [
        raised(SignalKind.SIGNATURE, 0.9, "t1"),
        raised(SignalKind.SEVERITY, 0.6, "t1"),
        raised(SignalKind.SIGNATURE, 0.9, "t2"),
        raised(SignalKind.SEVERITY, 0.8, "t2"),
        raised(SignalKind.BURST, 0.61, "t3"),
    ]
    assert signal_kinds(found) == "signature 0.90 ×2, severity 0.80 ×2, burst 0.61"
