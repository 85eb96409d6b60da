"""The HTML report: one self-contained, well-formed file, escaped everywhere, a chart each."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from report_samples import (
    SAMPLES,
    bare_incident,
    database_incident,
    empty_result,
    full_result,
    hostile_result,
)

from aiops_copilot.models import AnalysisResult
from aiops_copilot.report.html import render_html, timeline_svg

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr"}
SVG_CHILDREN = {"rect", "title"}


class _Checker(HTMLParser):
    """Collects tags, attributes and text, and checks every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(document: str) -> _Checker:
    checker = _Checker()
    checker.feed(document)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert not checker.stack, f"unclosed: {checker.stack}"
    return checker


@pytest.mark.parametrize("name", list(SAMPLES))
def test_well_formed_and_self_contained(name: str) -> None:
    document = render_html(SAMPLES[name]())
    assert document.startswith('<!DOCTYPE html>\n<html lang="en">')
    checker = _parse(document)
    tags = [tag for tag, _ in checker.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    assert not any("src" in attrs for _, attrs in checker.tags)
    # No external resources from CSS either.
    assert "@import" not in document and "url(" not in document
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in (
        checker.tags
    )


def test_script_in_a_log_line_is_escaped() -> None:
    document = render_html(hostile_result())
    assert "<script" not in document.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document
    assert "&lt;img src=x&gt;" in document
    checker = _parse(document)
    text = "".join(checker.text)
    assert "<script>alert('x')</script>" in text  # shown to the reader, literally
    assert "\x1b" not in document


def test_attribute_values_cannot_break_out() -> None:
    checker = _parse(render_html(hostile_result()))
    hrefs = [attrs.get("href") for tag, attrs in checker.tags if tag == "a"]
    assert 'https://example.org/"onmouseover="x' in hrefs  # one attribute value, quotes and all
    assert not any(key.startswith("on") for _, attrs in checker.tags for key in attrs)
    assert "javascript:alert(1)" not in hrefs  # only http(s) references become links


def test_each_incident_with_times_gets_a_chart() -> None:
    document = render_html(full_result())
    assert document.count("<svg") == 2  # the bare incident has no timestamps
    checker = _parse(document)
    sections = [attrs for tag, attrs in checker.tags if tag == "section"]
    assert [s.get("id") for s in sections] == ["incident-1", "incident-2", "incident-3", "summary"]
    assert 'class="incident sev-critical"' in document


def test_chart_bars_follow_the_minutes() -> None:
    incident = database_incident()
    svg = timeline_svg(incident)
    rects = re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)">', svg)
    assert len(rects) == len(incident.minutes) == 8  # two empty minutes draw nothing
    heights = [float(h) for _, h in rects]
    assert max(heights) == pytest.approx(76.0)  # the peak fills the chart
    assert all(float(y) + float(h) == pytest.approx(80.0) for y, h in rects)  # bars stand on 0
    assert "<title>2026-11-23 23:26 UTC: 120 records</title>" in svg
    assert timeline_svg(bare_incident()) == ""


def test_a_long_timeline_is_binned() -> None:
    incident = bare_incident()
    incident.minutes = {m: 1 for m in range(28_000_000, 28_000_000 + 5000)}
    assert timeline_svg(incident).count("<rect") <= 60


def test_incident_content_present() -> None:
    text = " ".join(" ".join(_parse(render_html(full_result())).text).split())
    for phrase in (
        "3 incidents: 1 critical, 1 high, 1 low",
        "PostgreSQL ran out of connection slots",
        "order-report-svc opens a connection per request",
        "✔ supported Connection leak in order-report-svc",
        "Roll back 1.4.3",
        "psql -c 'SELECT count(*), application_name FROM pg_stat_activity GROUP BY 2'",
        "logs/postgresql.log:120",
        "same signature postgresql-too-many-clients",
        "No fixer diagnosis",
        "keyword connection refused; software nginx",
        "caused by inc-db-1",
    ):
        assert phrase in text


def test_summary_section_lists_sources_and_counts() -> None:
    document = render_html(empty_result())
    assert "No incidents found." in document
    summary = document[document.index('<section id="summary">') :]
    assert "logs/postgresql.log" in summary and "1,800" in summary
    assert "logs/&lt;evil&gt;|.log" in summary
    assert "truncated gzip [bold]stream[/bold]" in summary
    assert "logs/core.bin" in summary and "binary file" in summary
    assert "postgresql-too-many-clients" in summary


def test_without_summary() -> None:
    document = render_html(AnalysisResult([], {}))
    assert "No reading summary." in document
