"""A store filled by real analyses of real failures (tests/evals), shared by the dashboard's
tests; tests that write get their own copy of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from user_env import isolated_env

EVALS = Path(__file__).resolve().parents[1] / "evals"
#: Real failures, analysed in two runs: the MySQL one, analysed last, finds the PostgreSQL one
#: as a similar past incident.
RUNS = (
    (
        "database/postgres-connection-leak-slots-exhausted",
        "network/nginx-upstream-connection-refused",
        "security/ssh-password-bruteforce",
    ),
    ("database/mariadb-too-many-connections-leaking-consumer",),
)


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store (with its vector memory beside it) holding the analysed failures."""
    folder = tmp_path_factory.mktemp("dashboard-store")
    db = folder / "aiops.db"
    env = isolated_env(folder / "home")
    for cases in RUNS:
        proc = subprocess.run(
            [sys.executable, "-m", "aiops_copilot", "-q", "analyze", "--fail-on", "never",
             "--format", "json", "--db", str(db), *(str(EVALS / c / "logs") for c in cases)],
            capture_output=True, env=env, cwd=folder, timeout=180, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr.decode()
    return db


@pytest.fixture
def store_copy(filled_store: Path, tmp_path: Path) -> Path:
    """A private copy of the filled store (and its memory), for tests that write."""
    target = tmp_path / "copy"
    shutil.copytree(filled_store.parent, target, ignore=shutil.ignore_patterns("home"))
    return target / filled_store.name


@pytest.fixture
def dashboard_env(
    store_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """This process set up as ``aiops dashboard`` sets up the app: the store in
    AIOPS_DB_URL, HOME and the working folder private to the test."""
    for key, value in isolated_env(tmp_path / "home").items():
        monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if k.startswith("AIOPS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AIOPS_DB_URL", str(store_copy))
    monkeypatch.chdir(tmp_path)
    yield store_copy
