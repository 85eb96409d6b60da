"""Opening a database: the engine, SQLite's durability settings, and migrations to head.

SQLite settings, and why:

* ``journal_mode=WAL``: readers never block the writer and a crash mid-write leaves the last
  committed state intact (the unfinished transaction is simply not in the WAL's valid part).
* ``synchronous=FULL``: every commit is fsynced before ``commit()`` returns, so "stored" means
  stored even across a power cut, not only across a killed process (``NORMAL`` would already
  survive ``kill -9``, but may lose the last commits on power loss). An analysis commits once,
  so the price is one fsync per run: milliseconds.
* ``busy_timeout`` (``store.timeout``, 30 s): a second writer waits for the first instead of
  failing with "database is locked".
* ``foreign_keys=ON``: SQLite ignores ``ON DELETE CASCADE`` without it.
* Write transactions start with ``BEGIN IMMEDIATE``: a transaction that reads, then writes
  (look up fingerprints, then update them) takes the write lock up front, because upgrading a
  read transaction to a write one cannot wait for a busy lock and would fail at once.

PostgreSQL needs none of this: its default READ COMMITTED plus row locks (``SELECT ... FOR
UPDATE``) and ``ON CONFLICT`` do the same job; a transaction-scoped advisory lock serialises
migrations when two processes open a fresh database at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from aiops_copilot.store.location import StoreError, shown, sqlite_file

MIGRATIONS = Path(__file__).with_name("migrations")
#: ``execution_options`` key that marks a connection whose transactions will write.
WRITE = "aiops_write"
#: Any constant: the advisory lock PostgreSQL migrations take.
_PG_MIGRATION_LOCK = 0x6A10_7500


def make_engine(url: URL, *, timeout: float = 30.0) -> Engine:
    """An engine for ``url`` with this module's settings; the SQLite file's folder is made."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeout)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(
            "PostgreSQL needs psycopg: pip install 'aiops-copilot[postgres]'"
        ) from None
    return create_engine(
        url,
        connect_args={"connect_timeout": max(1, round(timeout))},
        pool_pre_ping=True,
    )


def _sqlite_engine(url: URL, timeout: float) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    engine = create_engine(url, connect_args={"timeout": timeout})
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands: _on_begin below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """A connection in one transaction, committed on success and rolled back on error."""
    with engine.connect() as connection:
        if write:
            connection = connection.execution_options(**{WRITE: True})
        with connection.begin():
            yield connection


def describe(exc: BaseException, url: URL) -> str:
    """A database error as one line: where, and the driver's own first line."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    detail = str(orig if orig is not None else exc)
    first = next((line.strip() for line in detail.splitlines() if line.strip()), type(exc).__name__)
    return f"{shown(url)}: {first}"


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]*)['\"]?", re.M)


def shipped_head() -> str | None:
    """The newest revision in migrations/versions, read from the files' text: deciding that a
    database is current must not cost importing Alembic (a quarter of a second) on every run."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for kind, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value and value != "None":
                (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none yet (or cannot say)."""
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:
        return None
    return str(row[0]) if row is not None else None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision this code ships; refuse a newer one."""
    head = shipped_head()
    if head is not None and _current_revision(engine) == head:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    with transaction(engine, write=False) as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise StoreError(
                f"{shown(engine.url)}: schema {current} is newer than this aiops knows "
                f"(its newest is {head}); upgrade aiops-copilot"
            ) from None
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with transaction(engine, write=True) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_engine(url: URL, *, timeout: float = 30.0) -> Engine:
    """An engine whose database is migrated and ready; every failure is a :class:`StoreError`."""
    engine = make_engine(url, timeout=timeout)
    try:
        migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(describe(exc, url)) from None
    return engine
