"""Keeps docs/benchmarks.md in sections so that each benchmark rewrites only its own figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

HEADER = (
    "# Benchmarks\n\nEvery figure here is written by a script in `bench/`; re-run it to refresh.\n"
)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table; the first column left-aligned, the others right-aligned (figures).
    Integers get thousands separators."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for row in rows:
        cells = [
            f"{c:,}" if isinstance(c, int) and not isinstance(c, bool) else str(c) for c in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def update_section(path: Path, name: str, body: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start_marker = f"<!-- {name}:start -->"
    end_marker = f"<!-- {name}:end -->"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{start_marker}\n_Measured {stamp}._\n\n{body}\n{end_marker}"
    if start_marker in text and end_marker in text:
        before = text[: text.index(start_marker)]
        after = text[text.index(end_marker) + len(end_marker) :]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n## {name.replace('_', ' ').title()}\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
