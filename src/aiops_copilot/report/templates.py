"""Template listings: a rich table, JSON rows, CSV, and the per-line JSONL stream."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiops_copilot.parsing.miner import Cluster, TemplateMiner

COLUMNS = ("template_id", "count", "first_seen", "last_seen", "template", "example")


def rows(miner: TemplateMiner, *, top: int = 0) -> list[dict[str, Any]]:
    """One row per template, most frequent first (ties by id, so the order is stable)."""
    clusters = sorted(miner.clusters, key=lambda c: (-c.count, c.template_id))
    if top > 0:
        clusters = clusters[:top]
    return [
        {
            "template_id": c.template_id,
            "count": c.count,
            "first_seen": c.first_seen.isoformat() if c.first_seen else None,
            "last_seen": c.last_seen.isoformat() if c.last_seen else None,
            "template": c.template,
            "example": c.example,
        }
        for c in clusters
    ]


def write_csv(table: Sequence[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: "" if row[k] is None else row[k] for k in COLUMNS})


def write_jsonl(per_line: Sequence[Cluster], out: TextIO) -> None:
    """One object per input line, in input order, with each cluster's *final* template.

    Clusters merge while mining, so the answer for an early line is only known at the end:
    the caller keeps each physical line's cluster (one reference, 8 bytes) and this resolves
    them.
    """
    cache: dict[int, str] = {}
    for cluster in per_line:
        final = cluster.resolve()
        text = cache.get(final.cid)
        if text is None:
            text = json.dumps(
                {"template": final.template_wildcards, "template_id": final.template_id},
                ensure_ascii=False,
            )
            cache[final.cid] = text
        out.write(text + "\n")


def render_table(table: Sequence[dict[str, Any]], console: Console, *, total: int) -> None:
    """The template table; on a narrow terminal the example and last-seen columns give way."""
    wide = console.width >= 140
    view = Table(title=f"{len(table)} templates from {total:,} records", title_justify="left")
    view.add_column("id", style="cyan", no_wrap=True)
    view.add_column("count", justify="right", no_wrap=True)
    view.add_column("first seen", no_wrap=True)
    if wide:
        view.add_column("last seen", no_wrap=True)
    view.add_column("template", overflow="fold", ratio=3)
    if wide:
        view.add_column("example", overflow="fold", style="dim", ratio=2)
    for row in table:
        # Text, not markup: log lines are full of square brackets ("[preauth]").
        cells = [Text(row["template_id"]), Text(f"{row['count']:,}")]
        cells.append(Text(_short_time(row["first_seen"])))
        if wide:
            cells.append(Text(_short_time(row["last_seen"])))
        cells.append(Text(row["template"]))
        if wide:
            cells.append(Text(row["example"][:160]))
        view.add_row(*cells)
    console.print(view)


def _short_time(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"
