"""The database fixer, table-driven: engines, connection exhaustion, deadlocks, timeouts, Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, diagnose, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain

D = Domain.DATABASE

CASES = [
    Case(
        "postgres-leak-held-connections",
        [
            "2026-11-20 11:10:05.123 UTC [3012] app@orders FATAL:  sorry, too many clients already",
            "2026-11-20 11:10:06.001 UTC [3013] app@orders FATAL:  sorry, too many clients already",
            "2026-11-20 11:10:07,000 WARNING order-svc: db pool exhausted, open_conns=95",
        ],
        counts=[40, 40, 1],
        formats=["postgresql"],
        problem="connections-exhausted",
        facts={"engine": "postgresql", "database": "orders", "held_connections": 95},
        says=["PostgreSQL", "too many connections", "connection leak"],
        supported="connection leak",
    ),
    Case(
        "mariadb-aborted-connections-name-the-leaker",
        [
            "Aborted connection 26 to db: 'payments' user: 'pay' host: '10.0.0.9' "
            "(Got an error reading communication packets)",
            "failed to process webhook evt_1: OperationalError(1040, 'Too many connections')",
        ],
        counts=[15, 30],
        formats=["mysql"],
        problem="connections-exhausted",
        facts={
            "engine": "mysql",
            "aborted_user": "pay",
            "leak_client": "user 'pay' from 10.0.0.9",
            "error_codes": ["1040"],
        },
        says=["user 'pay' from 10.0.0.9", "never closed"],
        supported="connection leak",
        ruled_out="pools together exceed",
    ),
    Case(
        "postgres-deadlock-participants",
        [
            "2026-11-23 23:24:45.316 UTC [4153] shop@shopdb ERROR:  deadlock detected\n"
            "DETAIL:  Process 4153 waits for ShareLock on "
            "transaction 790; blocked by process 4154.\n"
            "\tProcess 4154 waits for ShareLock on transaction 789; blocked by process 4153.\n"
            "\tProcess 4153: update accounts set balance = balance + 250 where id = 77\n"
            "\tProcess 4154: update accounts set balance = balance + 250 where id = 42\n"
            'CONTEXT:  while updating tuple (0,127) in relation "accounts"'
        ],
        formats=["postgresql"],
        problem="deadlock",
        facts={
            "processes": ["4153", "4154"],
            "relations": ["accounts"],
            "rows": ["77", "42"],
            "lock_types": ["ShareLock"],
        },
        says=["deadlock", "4153 waits for ShareLock held by 4154", "opposite order"],
        supported="opposite order",
        ruled_out="gap/next-key",
    ),
    Case(
        "postgres-lock-timeout-behind-ddl",
        [
            "2026-11-23 23:25:14.755 UTC [5389] shop@shopdb "
            "ERROR:  canceling statement due to lock "
            "timeout\nSTATEMENT:  update inventory set qty = qty - 1 where sku = 'SKU-141'",
            "2026-11-23 23:25:13.759 UTC [5389] shop@shopdb LOG:  process 5389 still waiting for "
            "RowExclusiveLock on relation 16404 of database 16386 after 1003.682 ms\n"
            "DETAIL:  Process holding the lock: 5773. Wait queue: 5389.",
            "2026-11-23 23:25:03.001 UTC [5773] shop@shopdb LOG:  statement: ALTER TABLE inventory "
            "ADD COLUMN reserved int",
        ],
        counts=[6, 6, 1],
        formats=["postgresql"],
        problem="lock-timeout",
        facts={"lock_holder": "5773", "table": "inventory", "waited_lock": "RowExclusiveLock"},
        says=["lock_timeout", "ALTER TABLE", "process 5773"],
        supported="long-running transaction",
    ),
    Case(
        "postgres-statement-timeout-after-dropped-index",
        [
            "ERROR:  canceling statement due to statement timeout\n"
            "STATEMENT:  select * from events where customer_id = 7",
            "LOG:  statement: DROP INDEX events_customer_id_idx",
        ],
        counts=[50, 1],
        formats=["postgresql"],
        problem="statement-timeout",
        facts={"dropped_index": "events_customer_id_idx", "table": "events"},
        says=["statement_timeout", "sequential scan", "events_customer_id_idx"],
        supported="sequential scan",
    ),
    Case(
        "redis-oom-without-ttl",
        [
            "SET failed: OOM command not allowed when used memory > 'maxmemory'.",
            "7221:M 23 Nov 2026 23:26:03.723 - DB 0: 2298 keys (0 volatile) in 4096 slots HT.",
        ],
        counts=[25, 1],
        formats=["redis"],
        problem="redis-oom",
        facts={"engine": "redis", "keys": "2298", "volatile_keys": "0"},
        says=["maxmemory", "TTL", "noeviction"],
        supported="without a TTL",
        ruled_out="too small",
    ),
    Case(
        "redis-misconf-permission-denied",
        [
            "Failed opening the temp RDB file temp-8115.rdb (in server root dir /var/lib/redis) "
            "for saving: Permission denied",
            "Background saving error",
            "ResponseError: MISCONF Redis is configured to save RDB snapshots, but it's currently "
            "unable to persist to disk.",
        ],
        counts=[3, 3, 179],
        formats=["redis"],
        problem="redis-persistence",
        facts={"data_dir": "/var/lib/redis", "save_error": "Permission denied"},
        says=["MISCONF", "/var/lib/redis", "not writable"],
        supported="not writable by the redis user",
        ruled_out="volume holding the Redis data dir is full",
    ),
    Case(
        "redis-misconf-disk-full",
        [
            "Write error saving DB on disk: No space left on device",
            "Background saving error",
            "MISCONF Redis is configured to save RDB "
            "snapshots, but it's currently unable to persist",
        ],
        formats=["redis"],
        problem="redis-persistence",
        supported="volume holding the Redis data dir is full",
        ruled_out="not writable by the redis user",
    ),
    Case(
        "sqlite-busy-timeout",
        [
            "POST /notes -> 500 after 5003 ms: sqlite3.OperationalError: database is locked",
        ],
        counts=[7],
        problem="sqlite-locked",
        facts={"engine": "sqlite", "busy_wait_ms": "5003", "locked_errors": 7},
        says=["database is locked", "busy timeout", "long-running transaction"],
        supported="long-running transaction",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_engine_specific_commands_follow_the_engine() -> None:
    postgres = diagnose(D, CASES[0].incident())
    assert any(c.startswith("psql") for c in postgres.commands)
    assert not any(c.startswith("mysql") for c in postgres.commands)
    mysql = diagnose(D, CASES[1].incident())
    assert any(c.startswith("mysql") for c in mysql.commands)
    assert not any("pg_stat_activity" in c for c in mysql.commands[:2])


def test_fit_prefers_database_evidence() -> None:
    fixer = fixers()[D]
    database = fixer.can_handle(CASES[0].incident())
    ssh = fixer.can_handle(incident_from_lines(["Failed password for root from 1.2.3.4 port 22"]))
    disk = fixer.can_handle(incident_from_lines(["could not write file: No space left on device"]))
    assert database > 0.7 > ssh
    assert database > disk
