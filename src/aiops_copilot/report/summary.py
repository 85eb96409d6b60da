"""The ``aiops analyze`` summary: what was read and what it reduced to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiops_copilot.ingest.reader import IngestRun
from aiops_copilot.knowledge.matcher import SignatureHit
from aiops_copilot.models import Level
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.report.templates import rows as template_rows


def build(
    run: IngestRun,
    miner: TemplateMiner,
    levels: dict[str, int],
    *,
    top: int,
    signatures: Sequence[SignatureHit] = (),
) -> dict[str, Any]:
    sources = [
        {
            "source": r.source.name,
            "format": r.format,
            "confidence": round(r.confidence, 3),
            "lines": r.stats.lines,
            "bytes": r.stats.bytes,
            "records": r.records,
            "invalid_utf8_lines": r.stats.invalid_utf8_lines,
            "cut_lines": r.stats.cut_lines,
            "truncated": r.stats.truncated,
            "error": r.stats.error,
        }
        for r in run.reports
    ]
    ordered_levels = {
        level.name: levels[level.name] for level in sorted(Level) if level.name in levels
    }
    return {
        "sources": sources,
        "skipped": [{"target": s.target, "reason": s.reason} for s in run.skipped],
        "totals": {
            "sources": len(sources),
            "skipped": len(run.skipped),
            "lines": sum(s["lines"] for s in sources),
            "records": sum(s["records"] for s in sources),
            "invalid_utf8_lines": sum(s["invalid_utf8_lines"] for s in sources),
            "cut_lines": sum(s["cut_lines"] for s in sources),
            "templates": len(miner),
        },
        "levels": ordered_levels,
        "top_templates": template_rows(miner, top=top),
        "signatures": [
            {
                "id": hit.entry.id,
                "domain": hit.entry.domain.value,
                "software": hit.entry.software,
                "severity": hit.entry.severity.value,
                "title": hit.entry.title,
                "count": hit.count,
                "template_ids": list(hit.template_ids),
            }
            for hit in signatures
        ],
    }


def render(summary: dict[str, Any], out: Console, err: Console) -> None:
    table = Table(title="Sources", title_justify="left")
    table.add_column("source", overflow="fold", min_width=12)
    table.add_column("format", no_wrap=True)
    for column in ("conf.", "lines", "records", "bad utf-8", "cut"):
        table.add_column(column, justify="right")
    table.add_column("note", overflow="fold")
    for s in summary["sources"]:
        note = s["error"] or ""
        table.add_row(
            Text(s["source"]),
            Text(s["format"]),
            f"{s['confidence']:.2f}",
            f"{s['lines']:,}",
            f"{s['records']:,}",
            f"{s['invalid_utf8_lines']:,}",
            f"{s['cut_lines']:,}",
            Text(note),
        )
    out.print(table)
    for skip in summary["skipped"]:
        err.print(Text.assemble(("skipped ", "yellow"), f"{skip['target']}: {skip['reason']}"))
    totals = summary["totals"]
    out.print(
        f"[bold]{totals['records']:,}[/bold] records from {totals['lines']:,} lines in "
        f"{totals['sources']} source(s), {totals['skipped']} skipped; "
        f"[bold]{totals['templates']:,}[/bold] templates; "
        f"{totals['invalid_utf8_lines']:,} lines with invalid UTF-8 (replaced), "
        f"{totals['cut_lines']:,} over-long lines cut.",
        highlight=False,
    )
    if summary["levels"]:
        levels = Table(title="Levels", title_justify="left")
        levels.add_column("level")
        levels.add_column("records", justify="right")
        levels.add_column("")
        peak = max(summary["levels"].values())
        for name, count in summary["levels"].items():
            bar = "█" * max(1, round(30 * count / peak))
            levels.add_row(name, f"{count:,}", bar)
        out.print(levels)
    if summary["signatures"]:
        known = Table(title="Known error signatures seen", title_justify="left")
        for column in ("severity", "domain", "entry", "lines", "title"):
            known.add_column(column, justify="right" if column == "lines" else "left")
        for hit in summary["signatures"]:
            known.add_row(
                hit["severity"], hit["domain"], hit["id"], f"{hit['count']:,}", Text(hit["title"])
            )
        out.print(known)
    if summary["top_templates"]:
        top = Table(title="Most frequent templates", title_justify="left")
        top.add_column("id", style="cyan", no_wrap=True)
        top.add_column("count", justify="right")
        top.add_column("template", overflow="fold")
        for row in summary["top_templates"]:
            top.add_row(row["template_id"], f"{row['count']:,}", Text(row["template"]))
        out.print(top)
