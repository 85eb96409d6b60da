"""Where the store lives: a SQLite file by default, any supported URL when asked.

Precedence (highest first): ``--db``, ``AIOPS_DB_URL`` (then ``AIOPS_STORE__URL``),
``store.url`` in ``aiops.toml``, and the default file ``$XDG_DATA_HOME/aiops/aiops.db``
(``~/.local/share/aiops/aiops.db``). The config layer does the merging; this module turns the
winning value into a SQLAlchemy URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiops_copilot.xdg import data_home

if TYPE_CHECKING:  # SQLAlchemy is imported when a URL is built: not for every command
    from sqlalchemy.engine import URL

DB_NAME = "aiops.db"
SUPPORTED = "a SQLite file path, sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"


class StoreError(Exception):
    """A store problem, worded as the one line the user sees."""


def default_path() -> Path:
    return data_home() / "aiops" / DB_NAME


def to_url(value: str | Path | None) -> URL:
    """A path or URL as a SQLAlchemy URL; ``None`` means the default file.

    Anything without ``://`` is a file path (``~`` expanded, made absolute so a later ``cd``
    cannot move the database). ``postgresql://`` and ``postgres://`` use psycopg 3.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if value is None:
        return _sqlite(default_path())
    text = str(value).strip()
    if not text:
        raise StoreError(f"empty database location; use {SUPPORTED}")
    if "://" not in text:
        return _sqlite(Path(text).expanduser())
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(f"not a database URL: {text!r}; use {SUPPORTED}") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        database = url.database or ""
        if database and database != ":memory:":
            return _sqlite(Path(database).expanduser())
        return url.set(drivername="sqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    raise StoreError(f"unsupported database {url.drivername!r}; use {SUPPORTED}")


def _sqlite(path: Path) -> URL:
    from sqlalchemy.engine import URL

    return URL.create("sqlite", database=str(path.absolute()))


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (``None`` for PostgreSQL or an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def shown(url: URL) -> str:
    """The URL as it may be printed: a SQLite file as its path, a password as ``***``."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    return url.render_as_string(hide_password=True)
