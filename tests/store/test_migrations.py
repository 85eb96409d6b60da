"""Opening a database: migrations from empty, the schema they make, SQLite's settings, and
where the store lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from aiops_copilot.store import Store, StoreError, default_path, to_url
from aiops_copilot.store.engine import MIGRATIONS
from aiops_copilot.store.location import shown
from aiops_copilot.store.schema import Base

TABLES = {
    "alembic_version",
    "runs",
    "templates",
    "incidents",
    "occurrences",
    "occurrence_templates",
    "template_counts",
    "feedback",
    "rules",
    "consumed",
    "miner_states",
    "miner_journal",
}


def test_migrations_run_from_empty_to_head(db_url: str) -> None:
    with Store(db_url) as store:
        names = set(inspect(store.engine).get_table_names())
        assert names == TABLES
        with store.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == "0003"


def test_the_migrated_schema_is_the_models(db_url: str) -> None:
    """A model changed without a migration (or the reverse) fails here."""
    with Store(db_url) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_opening_again_changes_nothing(db_url: str) -> None:
    Store(db_url).close()
    with Store(db_url) as store:
        assert store.stats().schema == "0003"


def test_a_newer_schema_is_refused_in_one_line(db_url: str) -> None:
    Store(db_url).close()
    engine = create_engine(to_url(db_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(StoreError) as error:
        Store(db_url)
    message = str(error.value)
    assert "schema 0999 is newer than this aiops knows" in message and "\n" not in message


def test_every_revision_ships_in_the_package() -> None:
    versions = sorted(p.name for p in (MIGRATIONS / "versions").glob("r*.py"))
    assert versions == ["r0001_initial.py", "r0002_template_counts.py", "r0003_consume.py"]
    assert (MIGRATIONS / "env.py").is_file() and (MIGRATIONS / "__init__.py").is_file()


def test_sqlite_settings(sqlite_url: str) -> None:
    with Store(sqlite_url, timeout=12.5) as store, store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 12500,
    }


def test_the_sqlite_folder_is_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "aiops.db"
    Store(target).close()
    assert target.is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(StoreError):
        Store(locked / "sub" / "aiops.db")


def test_a_directory_as_the_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as error:
        Store(tmp_path)
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)


def test_a_missing_store_is_not_created_when_reading(tmp_path: Path) -> None:
    target = tmp_path / "nothing.db"
    with pytest.raises(StoreError, match="no store at"):
        Store(target, create=False)
    assert not target.exists()


def test_a_server_that_does_not_answer_is_a_store_error() -> None:
    with pytest.raises(StoreError) as error:
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none", timeout=2)
    assert "127.0.0.1" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/var/lib/aiops/a.db", "sqlite:////var/lib/aiops/a.db"),
        ("sqlite:////var/lib/aiops/a.db", "sqlite:////var/lib/aiops/a.db"),
        ("sqlite+pysqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql://u@db:5432/aiops", "postgresql+psycopg://u@db:5432/aiops"),
        ("postgres://u@db/aiops", "postgresql+psycopg://u@db/aiops"),
        ("postgresql+psycopg://u:secret@db/aiops", "postgresql+psycopg://u:***@db/aiops"),
    ],
)
def test_locations(value: str, expected: str) -> None:
    assert to_url(value).render_as_string(hide_password=True) == expected


def test_a_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown(to_url("history.db")) == str(tmp_path / "history.db")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert shown(to_url("~/h.db")) == str(tmp_path / "h.db")


@pytest.mark.parametrize(
    "value", ["mysql://u@db/aiops", "postgresql+psycopg2://u@db/x", "", "http://x"]
)
def test_unsupported_locations(value: str) -> None:
    with pytest.raises(StoreError):
        to_url(value)


def test_the_default_file_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_path() == tmp_path / ".local" / "share" / "aiops" / "aiops.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "aiops" / "aiops.db"
    assert shown(to_url(None)) == str(tmp_path / "data" / "aiops" / "aiops.db")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_path() == tmp_path / ".local" / "share" / "aiops" / "aiops.db"
