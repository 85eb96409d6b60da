"""Fixtures for the store's tests: a SQLite file per test, and one throwaway PostgreSQL
database per test session on 127.0.0.1:5432 (or ``AIOPS_TEST_PG_URL``).

The PostgreSQL tests skip, saying why, only when no server answers and ``CI`` is unset; in CI
a missing server is a failure, because ``.ci/run`` starts one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

SERVER_URL = os.environ.get(
    "AIOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _server() -> URL | None:
    """The maintenance database's URL when a server answers, else ``None``."""
    url = make_url(SERVER_URL)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ImportError):
        return None
    return url


@pytest.fixture(scope="session")
def pg_database() -> Iterator[URL]:
    """A database made for this test session and dropped after it."""
    server = _server()
    if server is None:
        reason = f"no PostgreSQL server answers at {make_url(SERVER_URL).render_as_string()}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: .ci/run should have started one")
        pytest.skip(f"{reason} (start one, or set CI=1 to make this a failure)")
    name = f"aiops_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: URL) -> str:
    """The session database emptied (schema dropped): each test starts from nothing."""
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return pg_database.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return str(tmp_path / "store" / "aiops.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs against both backends."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))
