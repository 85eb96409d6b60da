"""The Markdown report: same content as the terminal, evidence fenced, log text inert."""

from __future__ import annotations

import re

import pytest
from report_samples import SAMPLES, empty_result, full_result, hostile_result

from aiops_copilot.report.markdown import code_span, esc, fenced, render_markdown


def _fences(markdown: str) -> list[tuple[str, list[str]]]:
    """(opening fence, body lines) of every fenced block, parsed the way GFM does.

    A block left open (no closing fence before the end) is an error in itself.
    """
    blocks: list[tuple[str, list[str]]] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})", lines[i])
        if opening:
            fence = opening.group(1)
            body: list[str] = []
            i += 1
            while i < len(lines) and not re.match(rf"^`{{{len(fence)},}}\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            assert i < len(lines), f"unclosed fence {fence}"
            blocks.append((fence, body))
        i += 1
    return blocks


def test_structure_of_a_full_report() -> None:
    md = render_markdown(full_result())
    assert md.startswith("# AI Ops Copilot report\n")
    assert "**3 incidents: 1 critical, 1 high, 1 low · 2,400 lines read" in md
    for heading in (
        "## 1. CRITICAL · PostgreSQL ran out of connection slots",
        "## 2. HIGH · connect() failed (111: Connection refused) while connecting to upstream",
        "## 3. LOW · something odd",
        "### Root cause",
        "### Hypotheses",
        "### Remediation",
        "### Commands",
        "### Evidence",
        "### Signals",
        "### Why grouped",
        "### Classifier",
        "## What was read",
    ):
        assert f"\n{heading}\n" in md
    assert "[1](#incident-1)" in md and '<a name="incident-1"></a>' in md
    assert "1. Roll back 1.4.3\n2. Put a pool (PgBouncer) in front of PostgreSQL" in md
    assert "- **Caused by:** `inc-db-1`" in md
    assert "_No fixer diagnosis; the signals below raised this incident._" in md
    assert "| ✘ | ruled out | Long-running queries hold slots |" in md
    assert "<https://www.postgresql.org/docs/current/runtime-config-connection.html>" in md


def test_evidence_sits_in_fenced_blocks_with_its_location() -> None:
    md = render_markdown(full_result())
    assert "`logs/postgresql.log:120`\n\n```text\n2026-11-23 23:24:01.112 UTC" in md
    bodies = [body for fence, body in _fences(md)]
    assert ["something odd happened"] in bodies


def test_hostile_text_cannot_escape_its_block_or_inject_html() -> None:
    md = render_markdown(hostile_result())
    blocks = _fences(md)
    hostile = [body for _, body in blocks if any("boom" in line for line in body)]
    assert len(hostile) == 1 and "```fence```" in hostile[0][0]  # kept whole, literal
    trace = [body for _, body in blocks if body and body[0].startswith("Exception")]
    assert len(trace) == 1 and len(trace[0]) == 6
    outside = "\n".join(
        line for line in md.splitlines() if not line.startswith(("`", "[bold red]", "echo"))
    )
    assert "<script>" not in outside
    assert "\\<script\\>alert('title')\\</script\\>" in md
    assert "\x1b" not in md


def test_table_cells_keep_their_columns() -> None:
    md = render_markdown(hostile_result())
    for line in md.splitlines():
        if line.startswith("| severity | 0.50"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) == 6, line


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("*bold* _it_", "\\*bold\\* \\_it\\_"),
        ("max_connections", "max_connections"),
        ("a | b", "a \\| b"),
        ("<b>x</b>", "\\<b\\>x\\</b\\>"),
        ("[link](http://x)", "\\[link\\](http://x)"),
        ("&amp; & b", "\\&amp; & b"),
        ("# not a heading", "\\# not a heading"),
        ("two\nlines", "two lines"),
    ],
)
def test_inline_escaping(text: str, escaped: str) -> None:
    assert esc(text) == escaped


@pytest.mark.parametrize(
    ("text", "span"),
    [("plain", "`plain`"), ("a`b", "``a`b``"), ("`x`", "`` `x` ``")],
)
def test_code_span_outlasts_backticks(text: str, span: str) -> None:
    assert code_span(text) == span


def test_fence_outlasts_backticks_inside() -> None:
    assert fenced("a ```` b")[0] == "`````text"
    assert fenced("plain")[0] == "```text"


def test_empty_result_says_so_and_keeps_the_summary() -> None:
    md = render_markdown(empty_result())
    assert "No incidents found." in md
    assert "| logs/postgresql.log | postgresql | 1,800 | 1,790 |" in md
    assert "- logs/core.bin: binary file" in md


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_renders(name: str) -> None:
    md = render_markdown(SAMPLES[name]())
    assert md.endswith("\n") and not md.endswith("\n\n")
    _fences(md)  # every block closes
