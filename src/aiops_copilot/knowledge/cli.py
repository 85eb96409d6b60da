"""``aiops kb``: list, show and check the knowledge base."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiops_copilot.models import Domain

if TYPE_CHECKING:
    from aiops_copilot.memory.vectors import VectorMemory

kb_app = typer.Typer(
    help="The knowledge base of error signatures and runbooks.", no_args_is_help=True
)

ExtraOpt = Annotated[
    list[Path] | None,
    typer.Option("--kb", help="Extra folder or YAML file of entries (repeatable)."),
]


@kb_app.command("list")
def list_entries(
    domain: Annotated[Domain | None, typer.Option("--domain", help="Only this domain.")] = None,
    software: Annotated[str | None, typer.Option("--software", help="Only this software.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    extra: ExtraOpt = None,
) -> None:
    """List entries: id, domain, software, severity, title."""
    from aiops_copilot.knowledge.loader import load_knowledge

    kb = load_knowledge(extra or [])
    entries = [
        e
        for e in kb
        if (domain is None or e.domain == domain) and (software is None or e.software == software)
    ]
    entries.sort(key=lambda e: (e.domain, e.software, e.id))
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    table = Table(title=f"{len(entries)} entries", title_justify="left")
    for column in ("id", "domain", "software", "severity", "title"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(e.id, e.domain, e.software, e.severity, Text(e.title))
    Console().print(table)


@kb_app.command("show")
def show_entry(
    entry_id: Annotated[str, typer.Argument(help="Entry id, as `kb list` shows it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    extra: ExtraOpt = None,
) -> None:
    """Show one entry in full."""
    from aiops_copilot.knowledge.loader import load_knowledge

    kb = load_knowledge(extra or [])
    entry = kb.get(entry_id)
    if entry is None:
        close = [e.id for e in kb if entry_id in e.id][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        typer.echo(f"aiops: error: no knowledge-base entry {entry_id!r}{hint}", err=True)
        raise typer.Exit(2)
    if as_json:
        typer.echo(json.dumps(entry.model_dump(mode="json"), indent=2))
        return
    console = Console()
    console.print(Text(f"{entry.title}", style="bold"))
    console.print(Text(f"{entry.id} · {entry.domain} · {entry.software} · {entry.severity}"))
    console.print(Text(f"source: {kb.sources[entry.id]}", style="dim"))
    match = entry.match
    if match.regex:
        console.print(
            Text(f"regex: {match.regex}" + (" (ignore case)" if match.ignore_case else ""))
        )
    if match.keywords:
        console.print(Text(f"keywords: {', '.join(match.keywords)}"))
    console.print(Text("\nRoot cause", style="bold"))
    console.print(Text(entry.root_cause))
    console.print(Text("\nRemediation", style="bold"))
    for number, step in enumerate(entry.remediation, start=1):
        console.print(Text(f"{number}. {step}"))
    if entry.commands:
        console.print(Text("\nCommands", style="bold"))
        for command in entry.commands:
            console.print(Text(f"  $ {command}", style="cyan"))
    console.print(Text("\nExamples", style="bold"))
    for line in entry.examples:
        console.print(Text(f"  {line}", style="dim"))
    console.print(Text("\nReferences", style="bold"))
    for ref in entry.references:
        console.print(Text(f"  {ref}"))


@kb_app.command("check")
def check_entries(
    domain: Annotated[
        Domain | None, typer.Option("--domain", help="Only report problems of this domain.")
    ] = None,
    extra: ExtraOpt = None,
    min_per_domain: Annotated[
        int, typer.Option("--min-per-domain", help="Fail when a domain has fewer entries.")
    ] = 0,
) -> None:
    """Validate every entry and test each entry's examples against its own match."""
    from aiops_copilot.knowledge.loader import LoadProblem, check, load_knowledge

    kb = load_knowledge(extra or [])
    problems = check(kb)
    if domain is not None:
        problems = [p for p in problems if f"/{domain.value}/" in p.where]
    counts = Counter(e.domain for e in kb)
    for each in Domain if domain is None else [domain]:
        if counts[each] < min_per_domain:
            problems.append(
                LoadProblem(
                    f"domain {each.value}", f"{counts[each]} entries, fewer than {min_per_domain}"
                )
            )
    summary = ", ".join(f"{d.value} {counts[d]}" for d in Domain)
    examples = sum(len(e.examples) + len(e.counter_examples) for e in kb)
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    status = "ok" if not problems else f"{len(problems)} problem(s)"
    typer.echo(f"{len(kb)} entries ({summary}); {examples} example lines checked; {status}")
    if problems:
        raise typer.Exit(1)


# -- memory: the team's runbooks ----------------------------------------------------------------

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The database whose memory to use (memory lives in qdrant/ beside a SQLite file).",
        show_default=False,
    ),
]


def _memory(db: str | None) -> VectorMemory:
    """Memory for a ``kb`` command, or one error line and exit 2 (in use, unreachable ...)."""
    from aiops_copilot.cli import _load, fail
    from aiops_copilot.memory.runtime import target_of
    from aiops_copilot.memory.vectors import MemoryUnavailable, VectorMemory

    settings = _load({"store.url": db}).settings
    try:
        return VectorMemory.open(
            path=target_of(settings).path,
            url=target_of(settings).url,
            api_key=target_of(settings).api_key,
            timeout=settings.memory.timeout,
        )
    except MemoryUnavailable as exc:
        fail(str(exc))


@kb_app.command("add")
def add_runbooks(
    paths: Annotated[
        list[str],
        typer.Argument(help="Runbook files, folders or globs: Markdown, YAML or text."),
    ],
    db: DbOpt = None,
) -> None:
    """Add the team's runbooks and postmortems to memory, one passage per section.

    Adding a file again replaces its passages. Analyses then cite the closest passages."""
    from aiops_copilot.memory.runbooks import add_paths

    memory = _memory(db)
    try:
        report = add_paths(memory, paths)
        where = memory.where
    finally:
        memory.close()
    for target, reason in report.skipped:
        typer.echo(f"aiops: skipped {target}: {reason}", err=True)
    replaced = f", {report.removed} old passage(s) removed" if report.removed else ""
    typer.echo(
        f"{report.passages} passage(s) from {len(report.files)} file(s) added to {where}{replaced}"
    )
    if not report.files:
        raise typer.Exit(1)


@kb_app.command("search")
def search_runbooks_command(
    query: Annotated[str, typer.Argument(help="What to look for, in words or a log line.")],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="How many passages.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    team_only: Annotated[
        bool, typer.Option("--team-only", help="Only runbooks added with `kb add`.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Search the team's runbooks and the knowledge base by meaning and by words."""
    from aiops_copilot.memory.runbooks import search_runbooks

    memory = _memory(db)
    try:
        hits = search_runbooks(memory, query, top, include_kb=not team_only)
    finally:
        memory.close()
    if as_json:
        rows = [
            {
                "score": hit.score,
                "title": hit.payload.get("title"),
                "source": hit.payload.get("source"),
                "line": hit.payload.get("line"),
                "kind": hit.payload.get("kind"),
                "entry_id": hit.payload.get("entry_id"),
                "text": hit.payload.get("body"),
                "dense": hit.dense,
                "lexical": hit.lexical,
            }
            for hit in hits
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not hits:
        typer.echo("nothing found (add runbooks with `aiops kb add PATH...`)")
        return
    console = Console()
    for number, hit in enumerate(hits, start=1):
        payload = hit.payload
        where = payload.get("entry_id") or payload.get("source")
        line = f":{payload['line']}" if payload.get("line") and not payload.get("entry_id") else ""
        console.print(Text(f"{number}. {payload.get('title')}", style="bold"))
        console.print(Text(f"   {where}{line} · score {hit.score:.2f}", style="dim"))
        body = " ".join(str(payload.get("body") or "").split())
        console.print(Text(f"   {body[:300]}{'…' if len(body) > 300 else ''}"))
