"""``aiops feedback ID ...``, ``aiops feedback export [FILE]`` and ``aiops feedback import FILE``.

A verdict on a stored incident becomes a rule the next analysis follows (see
:mod:`aiops_copilot.learning`): ``--domain`` reroutes the same kind of incident, ``--merge``
joins it to another, ``--split`` keeps it from absorbing others, ``--wrong`` alone halves the
weight of the signatures that raised it, ``--correct`` is kept as a confirmation. Rules move
between installations as a small JSON file.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aiops_copilot.learning import RULE_KINDS, RuleRecord
from aiops_copilot.models import Domain
from aiops_copilot.store.cli import DbOpt, _fail, _open, _run
from aiops_copilot.store.location import StoreError

if TYPE_CHECKING:
    from aiops_copilot.store.sql import Store

EXPORT_VERSION = 1


def feedback(
    target: Annotated[
        str,
        typer.Argument(
            help="Incident id (or a unique prefix), or `export` / `import`.",
            show_default=False,
        ),
    ],
    file: Annotated[
        str | None,
        typer.Argument(help="For export/import: the JSON file (export: default stdout)."),
    ] = None,
    correct: Annotated[bool, typer.Option("--correct", help="The diagnosis was right.")] = False,
    wrong: Annotated[bool, typer.Option("--wrong", help="The diagnosis was wrong.")] = False,
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="The right domain: the same incident goes there next time."),
    ] = None,
    merge: Annotated[
        str | None,
        typer.Option("--merge", help="Another incident this one belongs to (merged next time)."),
    ] = None,
    split: Annotated[
        bool, typer.Option("--split", help="This incident lumps unrelated problems together.")
    ] = False,
    note: Annotated[str | None, typer.Option("--note", help="Why, in your words.")] = None,
    db: DbOpt = None,
) -> None:
    """Tell the copilot whether an incident was right; it learns a rule from it."""
    if target == "export":
        _export(db, file)
        return
    if target == "import":
        if file is None:
            _fail("feedback import needs a FILE")
        _import(db, file)
        return
    if file is not None:
        _fail(f"unexpected argument {file!r} (only export/import take a FILE)")
    if correct and wrong:
        _fail("--correct and --wrong contradict each other")
    if correct and (domain or merge or split):
        _fail("--correct cannot come with --domain, --merge or --split")
    if merge and split:
        _fail("--merge and --split contradict each other")
    if domain is not None and domain not in Domain.__members__.values():
        _fail(f"--domain must be one of {', '.join(d.value for d in Domain)}, not {domain!r}")
    if not (correct or wrong or domain or merge or split):
        _fail("say something: --correct, --wrong, --domain D, --merge ID or --split")
    verdict = "correct" if correct else "wrong" if wrong else None

    def act(store: Store) -> None:
        outcome = store.give_feedback(
            target,
            verdict=verdict,
            domain=domain,
            merge_into=merge,
            split=split,
            note=note,
        )
        typer.echo(f"feedback stored for {outcome.incident_id}")
        for rule in outcome.rules:
            typer.echo(f"  learned: {_describe(rule)}")
        if not outcome.rules:
            typer.echo("  (no rule: nothing to change next time)")

    _run(db, act)


def _describe(rule: RuleRecord) -> str:
    if rule.kind == "domain":
        return f"incidents like this one go to the {rule.value} fixer"
    if rule.kind == "merge":
        return f"incidents like this one join {rule.value}"
    if rule.kind == "split":
        return "incidents like this one are never merged with others"
    return f"signature {rule.value} now counts {rule.weight:g}"


def _export(db: str | None, file: str | None) -> None:
    rules = _run(db, lambda store: store.rules())
    payload = {
        "version": EXPORT_VERSION,
        "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "rules": [
            {
                "fingerprint": r.fingerprint,
                "kind": r.kind,
                "value": r.value,
                "weight": r.weight,
                "created_at": r.created_at.isoformat() if r.created_at else None,
                "note": r.note,
            }
            for r in rules
        ],
    }
    text = json.dumps(payload, indent=2) + "\n"
    if file is None or file == "-":
        sys.stdout.write(text)
        return
    try:
        Path(file).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {file}: {exc.strerror or exc}")
    typer.echo(f"{len(rules)} rule(s) exported to {file}", err=True)


def _import(db: str | None, file: str) -> None:
    try:
        raw = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        data = json.loads(raw)
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        _fail(f"{file}: not JSON ({exc.msg} at line {exc.lineno})")
    records = _records(data, file)
    try:
        store = _open(db)
    except StoreError as exc:  # pragma: no cover - _open already fails cleanly
        _fail(str(exc))
    try:
        added = store.import_rules(records)
    except (StoreError, ValueError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"{added} new rule(s) imported, {len(records) - added} already known")


def _records(data: Any, file: str) -> list[RuleRecord]:
    if not isinstance(data, dict) or data.get("version") != EXPORT_VERSION:
        _fail(f"{file}: not an aiops rules export (version {EXPORT_VERSION})")
    records = []
    for number, item in enumerate(data.get("rules") or [], start=1):
        try:
            kind = str(item["kind"])
            if kind not in RULE_KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            created = item.get("created_at")
            records.append(
                RuleRecord(
                    fingerprint=str(item["fingerprint"]),
                    kind=kind,
                    value=str(item["value"]),
                    weight=float(item.get("weight", 1.0)),
                    created_at=datetime.fromisoformat(created) if created else None,
                    note=item.get("note"),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            _fail(f"{file}: rule {number}: {exc}")
    return records
