"""Databases on real output: PostgreSQL 15.20, MariaDB 10.11.19, Redis 7.0.15 (+ MySQL 8 text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from format_helpers import fixed_clock, fold_file, parse_lines

from aiops_copilot.ingest.formats.mysql import MysqlFormat
from aiops_copilot.ingest.formats.postgresql import PostgresqlFormat
from aiops_copilot.ingest.formats.redis import RedisFormat
from aiops_copilot.models import Level

PG = PostgresqlFormat()
MYSQL = MysqlFormat()
REDIS = RedisFormat(clock=fixed_clock)


def test_postgresql_debian_prefix_user_at_db() -> None:
    records = parse_lines(PG, "postgresql/pg15-debian-default.log")
    first, unique = records[0], records[7]
    assert first is not None and unique is not None
    assert first.timestamp == datetime(2026, 11, 23, 21, 53, 7, 537000, tzinfo=UTC)
    assert (first.level, first.pid, first.service, first.fields) == (
        Level.INFO, 2183, "postgres", {},
    )  # fmt: skip
    assert first.message.startswith("starting PostgreSQL 15.20")
    assert unique.level is Level.ERROR
    assert unique.fields == {"user": "postgres", "database": "fmt_sample_db"}
    assert unique.message == 'duplicate key value violates unique constraint "users_email_key"'
    assert records[8] is None and records[9] is None  # DETAIL / STATEMENT continue it
    fatal = records[23]
    assert fatal is not None and fatal.level is Level.CRITICAL
    assert fatal.fields == {"user": "nosuchuser", "database": "postgres"}


def test_postgresql_detail_statement_context_fold_into_fields() -> None:
    records = fold_file(PG, "postgresql/pg15-debian-default.log")
    unique = next(r for r in records if r.line_no == 8)
    assert unique.end_line == 10
    assert unique.message.splitlines() == [
        'duplicate key value violates unique constraint "users_email_key"',
        "DETAIL:  Key (email)=(a@example.com) already exists.",
        "STATEMENT:  INSERT INTO users VALUES (2, 'a@example.com');",
    ]
    assert unique.fields["detail"] == "Key (email)=(a@example.com) already exists."
    assert unique.fields["statement"] == "INSERT INTO users VALUES (2, 'a@example.com');"
    plpgsql = next(r for r in records if r.line_no == 20)
    assert plpgsql.end_line == 23  # CONTEXT, a tab-indented line, STATEMENT
    assert "\tPL/pgSQL function f() line 1 at RETURN" in plpgsql.message.splitlines()
    assert plpgsql.fields["context"] == 'SQL expression "1/0"'
    warning = records[-1]
    assert warning.level is Level.WARNING and (warning.line_no, warning.end_line) == (30, 31)
    assert len(records) == 20


def test_postgresql_pgbadger_style_prefix() -> None:
    records = parse_lines(PG, "postgresql/pg15-prefix-t-p-l-user-db.log")
    auth = records[6]
    assert auth is not None
    assert auth.timestamp == datetime(2026, 11, 23, 22, 1, 46, tzinfo=UTC)
    assert auth.level is Level.CRITICAL and auth.pid == 7871
    assert auth.message == 'password authentication failed for user "postgres"'
    assert auth.fields == {
        "session_line": 2,
        "user": "postgres",
        "database": "postgres",
        "client": "127.0.0.1",
    }
    psql = next(r for r in records if r is not None and r.fields.get("application") == "psql")
    assert psql.message.startswith("duration: 7.213 ms  statement: CREATE TABLE orders")


def test_postgresql_upstream_default_prefix_folds() -> None:
    records = fold_file(PG, "postgresql/pg15-upstream-default.log")
    auth = next(r for r in records if "password authentication failed" in r.message)
    assert (auth.line_no, auth.end_line, auth.level) == (7, 8, Level.CRITICAL)
    assert auth.fields["detail"].startswith("Connection matched pg_hba.conf line 87")
    syntax = next(r for r in records if r.message.startswith("syntax error"))
    assert syntax.fields["statement"] == "SELECT 1 +;"
    assert len(records) == 21


def test_postgresql_zone_variants() -> None:
    rec = PG.parse("2026-11-23 10:00:00 CET [12] LOG:  x")
    assert rec is not None and rec.fields["tz_name"] == "CET"
    assert rec.timestamp == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    rec = PG.parse("2026-11-23 10:00:00.5 +01 [12] PANIC:  y")
    assert rec is not None and rec.level is Level.EMERGENCY
    assert rec.timestamp == datetime(2026, 11, 23, 10, 0, 0, 500000, timezone(timedelta(hours=1)))


def test_mariadb_error_log() -> None:
    records = parse_lines(MYSQL, "mysql/mariadb-10.11-error.log")
    first = records[0]
    assert first is not None
    assert first.timestamp == datetime(2026, 11, 23, 22, 2, 8, tzinfo=UTC)
    assert (first.level, first.service, first.fields) == (Level.NOTICE, "mysqld", {"thread": 0})
    error = records[15]
    assert error is not None and error.level is Level.ERROR
    assert error.message == "/usr/sbin/mariadbd: unknown variable 'no-such-option=1'"
    denied = records[39]
    assert denied is not None and denied.level is Level.WARNING
    assert denied.fields == {"thread": 3}
    assert records[37] is None  # "Version: ..." banner continues "ready for connections"


def test_mariadb_banner_folds() -> None:
    records = fold_file(MYSQL, "mysql/mariadb-10.11-error.log")
    ready = next(r for r in records if r.message.startswith("/usr/sbin/mariadbd: ready"))
    assert (ready.line_no, ready.end_line) == (37, 38)
    assert len(records) == 48


@pytest.mark.parametrize(
    ("index", "level", "code", "subsystem", "thread"),
    [
        (0, Level.NOTICE, "MY-010116", "Server", 0),
        (3, Level.WARNING, "MY-010068", "Server", 0),
        (6, Level.NOTICE, "MY-010926", "Server", 12),
        (7, Level.ERROR, "MY-012592", "InnoDB", 0),
    ],
)
def test_mysql8_error_log(index: int, level: Level, code: str, subsystem: str, thread: int) -> None:
    rec = parse_lines(MYSQL, "mysql/mysql-8.0-error.log")[index]
    assert rec is not None
    assert rec.level is level
    assert rec.fields == {"thread": thread, "code": code, "subsystem": subsystem}


def test_mysql8_timestamps_and_mysql57() -> None:
    records = parse_lines(MYSQL, "mysql/mysql-8.0-error.log")
    assert records[0] is not None
    assert records[0].timestamp == datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    assert records[0].message == "/usr/sbin/mysqld (mysqld 8.0.36) starting as process 1"
    last = records[-1]
    assert last is not None and last.timestamp is not None
    assert last.timestamp.utcoffset() == timedelta(hours=1)
    rec = MYSQL.parse("2017-06-02T10:00:00.000000Z 0 [Warning] TIMESTAMP with implicit DEFAULT")
    assert rec is not None and rec.fields == {"thread": 0} and rec.level is Level.WARNING
    rec = MYSQL.parse("2026-11-23  9:05:01 4 [Note] padded hour")
    assert rec is not None and rec.timestamp == datetime(2026, 11, 23, 9, 5, 1, tzinfo=UTC)


def test_redis_master_log() -> None:
    records = parse_lines(REDIS, "redis/redis-7.0-master-verbose.log")
    assert all(r is not None for r in records)
    child, warning, verbose, saved = records[0], records[6], records[8], records[14]
    assert child is not None and warning is not None and verbose is not None
    assert saved is not None
    assert child.timestamp == datetime(2026, 11, 23, 22, 2, 25, 535000, tzinfo=UTC)
    assert (child.pid, child.service, child.fields) == (8370, "redis", {"role": "child"})
    assert child.level is Level.WARNING  # '#'
    assert warning.level is Level.WARNING and warning.fields["role"] == "master"
    assert warning.message.startswith("WARNING Memory overcommit must be enabled!")
    assert verbose.level is Level.DEBUG and verbose.message == "Accepted 127.0.0.1:46338"
    assert saved.level is Level.INFO and saved.pid == 8386 and saved.message == "DB saved on disk"


def test_redis_replica_errors() -> None:
    records = parse_lines(REDIS, "redis/redis-7.0-replica.log")
    errors = [r for r in records if r is not None and "Error condition" in r.message]
    assert len(errors) == 5
    assert all(r.fields["role"] == "replica" and r.level is Level.WARNING for r in errors)


def test_redis_2x_without_year() -> None:
    rec = REDIS.parse("[4018] 14 Nov 07:01:22.119 * Background saving terminated with success")
    assert rec is not None and rec.pid == 4018
    assert rec.timestamp == datetime(2026, 11, 14, 7, 1, 22, 119000, tzinfo=UTC)
