"""``aiops kb``: list, show and check the knowledge base."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiops_copilot.knowledge.loader import LoadProblem, check, load_knowledge
from aiops_copilot.models import Domain

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
