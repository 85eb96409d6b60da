"""``aiops incidents ...`` and ``aiops db ...``, and the hook ``aiops analyze`` stores through.

Every command that touches the store takes ``--db PATH|URL``; the location is resolved as
``--db`` > ``AIOPS_DB_URL`` > ``store.url`` in ``aiops.toml`` > the default file (see
``location.py``). Problems are one ``aiops: error:`` line with exit code 2, like every other
command, except in ``analyze``, where a store that cannot be written is only a warning: the
report matters more than the history.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from loguru import logger
from rich.console import Console

from aiops_copilot.learning import LearnedRules
from aiops_copilot.models import AnalysisResult, Domain, IncidentStatus
from aiops_copilot.store.durations import HELP as WHEN_HELP
from aiops_copilot.store.durations import cutoff
from aiops_copilot.store.location import StoreError

if TYPE_CHECKING:
    from aiops_copilot.config import StoreSettings
    from aiops_copilot.store.sql import Store, StoredRun

STATUSES = tuple(status.value for status in IncidentStatus)


def _store_class() -> type[Store]:
    """The ORM-backed store, imported when a command first needs it (SQLAlchemy is slow to
    import and most invocations of the CLI, ``--help`` included, never touch it)."""
    from aiops_copilot.store.sql import Store

    return Store


incidents_app = typer.Typer(
    help="Incident history: what analyses found before, and what fixed it.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="The incident store itself: size and retention.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLite file or database URL (postgresql+psycopg://...). Default: AIOPS_DB_URL, "
        "store.url, ~/.local/share/aiops/aiops.db.",
        show_default=False,
    ),
]
IdArg = Annotated[str, typer.Argument(help="Incident id (or a unique prefix of it).")]


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)


def _console() -> Console:
    from aiops_copilot.cli import _console as console

    return console()


def _settings(db: str | None) -> StoreSettings:
    from aiops_copilot.cli import _load

    return _load({"store.url": db}).settings.store


def _open(db: str | None) -> Store:
    """The store for a history command: it must exist already (no new empty file)."""
    settings = _settings(db)
    try:
        return _store_class()(settings.url, timeout=settings.timeout, create=False)
    except StoreError as exc:
        _fail(str(exc))


def _run(db: str | None, action: Callable[[Store], Any]) -> Any:
    store = _open(db)
    try:
        return action(store)
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        _fail(f"{option} must be one of {', '.join(allowed)}, not {value!r}")


def _when(text: str, option: str) -> datetime:
    try:
        return cutoff(text)
    except ValueError as exc:
        _fail(f"{option}: {exc}")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@incidents_app.command("list")
def list_incidents(
    since: Annotated[
        str | None, typer.Option("--since", help=f"Seen since: {WHEN_HELP}.", show_default=False)
    ] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Only this domain.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, resolved or recurred.")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option("--limit", help="At most N (0: all).", min=0)] = 100,
    db: DbOpt = None,
) -> None:
    """List stored incidents, most recently seen first."""
    from aiops_copilot.store import views

    _choice(output, ("table", "json"), "--format")
    _choice(domain, tuple(d.value for d in Domain), "--domain")
    _choice(status, STATUSES, "--status")
    moment = _when(since, "--since") if since else None
    items = _run(
        db,
        lambda store: store.incidents(since=moment, domain=domain, status=status, limit=limit),
    )
    if output == "json":
        _print_json([views.summary_to_dict(item) for item in items])
    else:
        views.render_list(items, _console())


@incidents_app.command("show")
def show_incident(
    incident_id: IdArg,
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    db: DbOpt = None,
) -> None:
    """One incident in full: its latest diagnosis, every occurrence, and feedback."""
    from aiops_copilot.store import views

    _choice(output, ("text", "json"), "--format")
    detail = _run(db, lambda store: store.incident(incident_id))
    if output == "json":
        _print_json(views.detail_to_dict(detail))
    else:
        views.render_detail(detail, _console())


@incidents_app.command("resolve")
def resolve_incident(
    incident_id: IdArg,
    note: Annotated[
        str,
        typer.Option("--note", help="What fixed it (shown when it recurs).", show_default=False),
    ],
    db: DbOpt = None,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify",
            help="Tell the notify targets that were told about it (default: yes, when any "
            "are configured).",
        ),
    ] = True,
) -> None:
    """Mark an incident resolved; if an analysis finds it again it becomes "recurred"."""
    if not note.strip():
        _fail("--note must say what fixed it")
    item = _run(db, lambda store: store.resolve(incident_id, note.strip()))
    typer.echo(f"{item.id} resolved: {note.strip()}")
    _remember_resolution(db, item.fingerprint, note.strip())
    if notify:
        said = notify_resolution(db, item.id)
        if said:
            typer.echo(said)


def notify_resolution(db: str | None, incident_id: str) -> str | None:
    """Send ``resolved`` to the targets that were paged about the incident (see
    :mod:`aiops_copilot.notify.resolution`); the line to show, if any."""
    from aiops_copilot.cli import _load
    from aiops_copilot.notify.resolution import notify_resolved
    from aiops_copilot.notify.targets import resolve_targets

    settings = _load({"store.url": db}).settings
    if not resolve_targets(settings.notify)[0]:  # nobody to tell: no need to read the store
        return None
    detail = _run(db, lambda store: store.incident(incident_id))
    report = detail.occurrences[0].report if detail.occurrences else None
    return notify_resolved(settings, detail.incident, report).message


def _forget(db: str | None, fingerprints: tuple[str, ...]) -> None:
    """Best effort: pruned incidents leave vector memory too."""
    from aiops_copilot.cli import _load

    try:
        from aiops_copilot.memory.incidents import forget
        from aiops_copilot.memory.runtime import opened
    except ImportError:  # pragma: no cover - memory's dependencies are optional at run time
        return
    with opened(_load({"store.url": db}).settings) as memory:
        if memory is not None:
            forget(memory, fingerprints)


def _remember_resolution(db: str | None, fingerprint: str, note: str) -> None:
    """Best effort: similar incidents found later cite how this one was fixed."""
    from aiops_copilot.cli import _load

    try:
        from aiops_copilot.memory.incidents import record_resolution
        from aiops_copilot.memory.runtime import opened
    except ImportError:  # pragma: no cover - memory's dependencies are optional at run time
        return
    settings = _load({"store.url": db}).settings
    with opened(settings) as memory:
        if memory is not None and not record_resolution(memory, fingerprint, note):
            logger.info("memory has no incident {} yet; the note is in the store", fingerprint)


@db_app.command("stats")
def db_stats(
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    db: DbOpt = None,
) -> None:
    """Rows per table, size on disk, the oldest and newest run."""
    from aiops_copilot.store import views

    _choice(output, ("text", "json"), "--format")
    stats = _run(db, lambda store: store.stats())
    if output == "json":
        _print_json(views.stats_to_dict(stats))
    else:
        views.render_stats(stats, _console())


@db_app.command("prune")
def db_prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help=f"Delete runs older than {WHEN_HELP}.", show_default=False
        ),
    ],
    vacuum: Annotated[
        bool, typer.Option("--vacuum", help="SQLite: give the freed space back to the disk.")
    ] = False,
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    db: DbOpt = None,
) -> None:
    """Delete old runs and their occurrences, then incidents and templates nothing refers to."""
    from aiops_copilot.store import views

    _choice(output, ("text", "json"), "--format")
    moment = _when(older_than, "--older-than")
    result = _run(db, lambda store: store.prune(moment, vacuum=vacuum))
    if result.fingerprints:
        _forget(db, result.fingerprints)
    if output == "json":
        _print_json(views.prune_to_dict(result))
    else:
        views.render_prune(result, _console())


def learned_rules(settings: StoreSettings) -> LearnedRules | None:
    """The rules learned from feedback, or None when there is no store yet or it cannot be
    read (the analysis then runs on the shipped knowledge alone)."""
    try:
        with _store_class()(settings.url, timeout=settings.timeout, create=False) as store:
            return store.learned()
    except StoreError as exc:
        logger.info("no learned rules: {}", exc)
        return None


def store_result(
    result: AnalysisResult,
    settings: StoreSettings,
    *,
    started_at: datetime,
    quiet: bool = False,
) -> StoredRun | None:
    """``analyze``'s hook: record the run and set each recurring incident's ``history``.

    Never raises: a locked, unwritable or unreachable store is one warning on stderr and the
    report goes on without history.
    """
    location = settings.url or "the default store"
    try:
        with _store_class()(settings.url, timeout=settings.timeout) as store:
            location = store.location
            stored = store.record(result, started_at=started_at)
    except StoreError as exc:
        _warn(f"not stored: {exc}", quiet)
        return None
    except Exception as exc:  # a store bug must not cost the user the report
        logger.opt(exception=exc).debug("storing the analysis failed")
        _warn(f"not stored in {location}: {type(exc).__name__}: {exc}", quiet)
        return None
    logger.info(
        "stored run {} in {}: {} incident(s), {} seen before ({} recurring)",
        stored.run_id,
        location,
        stored.incidents,
        stored.seen_before,
        stored.recurring,
    )
    return stored


def _warn(message: str, quiet: bool) -> None:
    if not quiet:
        first = message.splitlines()[0] if message else message
        sys.stderr.write(f"aiops: warning: {first}\n")
