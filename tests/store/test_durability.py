"""Two writers at once, and kill -9 in the middle of a write: nothing reported stored is lost
and the database stays intact. Real processes, real files, real signals."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aiops_copilot.store import Store
from aiops_copilot.store.schema import IncidentRow
from aiops_copilot.store.sql import Occurrence, Run
from store.store_samples import incident_id

WRITER = Path(__file__).with_name("store_writer.py")


def _writer(db: str, prefix: str, count: int, batch: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    return subprocess.Popen(
        [sys.executable, str(WRITER), db, prefix, str(count), str(batch), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _integrity_ok(path: str) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def _count(store: Store, model: type, **where: str) -> int:
    from sqlalchemy import func, select

    query = select(func.count()).select_from(model)
    for column, prefix in where.items():
        query = query.where(getattr(model, column).like(f"{prefix}%"))
    with store._session(write=False) as session:
        return int(session.scalar(query) or 0)


@pytest.mark.slow
def test_two_processes_write_at_once(db_url: str) -> None:
    """500 incidents each, in batches of 50, plus one fingerprint both keep storing: both
    succeed, every row is there, and no sighting of the shared one is lost."""
    if "://" not in db_url:
        Path(db_url).parent.mkdir(parents=True, exist_ok=True)
    writers = [_writer(db_url, prefix, 500, 50, "--shared", "both") for prefix in ("left", "right")]
    outputs = [w.communicate(timeout=240) for w in writers]
    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert stdout.splitlines()[-1] == "stored 500"
    with Store(db_url) as store:
        assert _count(store, Run) == 20
        assert _count(store, Occurrence) == 1000 + 20
        assert _count(store, IncidentRow) == 1001
        ids = {item.id for item in store.incidents(limit=0)}
        for prefix in ("left", "right"):
            assert {incident_id(f"{prefix}-{i}") for i in range(500)} <= ids
        shared = store.incident(incident_id("both")).incident
        assert shared.times_seen == 20  # every batch's sighting counted: no lost update
    if "://" not in db_url:
        _integrity_ok(db_url)


@pytest.mark.slow
def test_kill_9_mid_write_loses_nothing_reported_stored(sqlite_url: str) -> None:
    """Thousands of incidents, one commit per batch; killed at a random moment after some
    batches were reported stored. Afterwards the file is intact and holds every one."""
    Path(sqlite_url).parent.mkdir(parents=True, exist_ok=True)
    writer = _writer(sqlite_url, "crash", 20_000, 250)
    assert writer.stdout is not None
    wanted_reports = random.randint(2, 12)
    reported = 0
    seen = 0
    while seen < wanted_reports:
        line = writer.stdout.readline()
        if not line:
            break
        match = re.fullmatch(r"stored (\d+)\n", line)
        assert match, line
        reported = int(match.group(1))
        seen += 1
    # A random moment inside the next batch's work (a batch takes a good fraction of a second).
    time.sleep(random.uniform(0.0, 0.4))
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate(timeout=60)
    for line in rest.splitlines():  # reports printed before the signal landed
        reported = int(line.split()[1])
    assert writer.returncode == -signal.SIGKILL, "the writer finished before it was killed"
    assert reported >= 500

    _integrity_ok(sqlite_url)
    with Store(sqlite_url) as store:
        stored = _count(
            store, IncidentRow, fingerprint="sig:postgresql-too-many-clients|svc:orders-crash-"
        )
        assert stored >= reported
        assert stored % 250 == 0  # whole batches only: a transaction is all or nothing
        ids = {item.id for item in store.incidents(limit=0)}
        assert {incident_id(f"crash-{i}") for i in range(reported)} <= ids
        assert _count(store, Run) == stored // 250
        # And it takes the next write.
        from store.store_samples import make_incident, make_result

        store.record(make_result([make_incident("after-crash")]))
        assert store.incident(incident_id("after-crash")).incident.times_seen == 1
    _integrity_ok(sqlite_url)
