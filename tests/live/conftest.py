"""Fixtures for the live tests: settings on a throwaway store, the knowledge base loaded once,
and log lines of a real failure (PostgreSQL out of connection slots) at chosen times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge([])


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """Store in tmp_path, no vector memory (the memory tests cover it; here it only costs)."""
    return Settings(
        store=StoreSettings(url=str(tmp_path / "store.db")),
        memory=MemorySettings(enabled=False),
    )


PgLines = Callable[[datetime, int], list[str]]


def pg_lines(start: datetime, failures: int = 12) -> list[str]:
    """PostgreSQL log lines: normal start-up and checkpoints, then clients turned away because
    every connection slot is taken (lines as PostgreSQL 15 writes them, from tests/evals)."""

    def at(seconds: float) -> str:
        moment = start + timedelta(seconds=seconds)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"

    lines = [
        f"{at(0)} [1778] LOG:  starting PostgreSQL 15.20 on x86_64-pc-linux-gnu",
        f'{at(0.1)} [1778] LOG:  listening on IPv4 address "127.0.0.1", port 16001',
        f"{at(0.2)} [1778] LOG:  database system is ready to accept connections",
    ]
    for n in range(20):
        lines.append(f"{at(1 + n * 0.1)} [{1800 + n}] LOG:  checkpoint starting: time")
    for n in range(failures):
        lines.append(
            f"{at(5 + n * 0.25)} [{2100 + n}] shop@shopdb FATAL:  remaining connection slots "
            "are reserved for non-replication superuser connections"
        )
    return lines


@pytest.fixture
def base_time() -> datetime:
    return datetime(2026, 11, 23, 23, 0, 0, tzinfo=UTC)
