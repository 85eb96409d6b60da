"""Application logging: Python logging (CPython 3.11), JVM (Loghub Hadoop/Spark/ZooKeeper,
Spring Boot) and Android logcat (Loghub)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from format_helpers import fixed_clock, fold_file, parse_lines

from aiops_copilot.ingest.formats.android_logcat import AndroidLogcatFormat
from aiops_copilot.ingest.formats.log4j import Log4jFormat
from aiops_copilot.ingest.formats.python_logging import PythonLoggingFormat
from aiops_copilot.models import Level

PY = PythonLoggingFormat()
LOG4J = Log4jFormat()
LOGCAT = AndroidLogcatFormat(clock=fixed_clock)


def test_python_basicconfig_default() -> None:
    records = parse_lines(PY, "python_logging/basicconfig-default.log")
    root, debug = records[0], records[1]
    assert root is not None and debug is not None
    assert (root.level, root.service, root.message, root.timestamp) == (
        Level.INFO, "root", "root logger ready", None,
    )  # fmt: skip
    assert (debug.level, debug.service) == (Level.DEBUG, "app.worker")
    critical = records[-1]
    assert critical is not None and critical.level is Level.CRITICAL
    assert critical.service == "urllib3.connectionpool"


def test_python_basicconfig_traceback_folds() -> None:
    records = fold_file(PY, "python_logging/basicconfig-default.log")
    assert [(r.line_no, r.end_line) for r in records] == [
        (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 23), (24, 24),
    ]  # fmt: skip
    exc = records[5]
    lines = exc.message.splitlines()
    assert lines[0] == "could not reload configuration"
    assert "The above exception was the direct cause of the following exception:" in lines
    assert lines[-1] == "RuntimeError: config /nonexistent/app.conf unavailable"
    assert exc.level is Level.ERROR


def test_python_asctime_dash() -> None:
    records = parse_lines(PY, "python_logging/asctime-dash.log")
    first = records[0]
    assert first is not None
    assert first.timestamp == datetime(2026, 11, 23, 22, 4, 3, 929000, tzinfo=UTC)
    assert (first.level, first.service) == (Level.INFO, "billing.invoices")
    assert first.message == "starting invoice run for 2026-11"
    folded = fold_file(PY, "python_logging/asctime-dash.log")
    assert [(r.line_no, r.end_line) for r in folded] == [(1, 1), (2, 2), (3, 3), (4, 16), (17, 17)]
    assert "During handling of the above exception, another exception occurred:" in (
        folded[3].message
    )
    assert folded[3].message.endswith("ValueError: invalid literal for int() with base 10: 'x1'")


def test_python_asctime_colon() -> None:
    records = parse_lines(PY, "python_logging/asctime-colon.log")
    assert all(r is not None for r in records)
    warning = records[1]
    assert warning is not None
    assert (warning.level, warning.service, warning.message) == (
        Level.WARNING, "scheduler", "job cleanup overran by 2.1s",
    )  # fmt: skip


def test_python_rejects_non_levels() -> None:
    assert PY.parse("KeyError: 'missing'") is None
    assert PY.parse("HELLO:world:x") is None


def test_log4j_hadoop() -> None:
    records = parse_lines(LOG4J, "loghub/Hadoop_sample.log")
    assert all(r is not None for r in records)
    first, error = records[0], records[25]
    assert first is not None and error is not None
    assert first.timestamp == datetime(2015, 10, 18, 18, 1, 47, 978000, tzinfo=UTC)
    assert first.level is Level.INFO
    assert first.service == "org.apache.hadoop.mapreduce.v2.app.MRAppMaster"
    assert first.fields["thread"] == "main"
    assert first.message.startswith("Created MRAppMaster for application")
    assert error.level is Level.ERROR and error.fields["thread"] == "RMCommunicator Allocator"


def test_log4j_spark_two_digit_year() -> None:
    first = parse_lines(LOG4J, "loghub/Spark_sample.log")[0]
    assert first is not None
    assert first.timestamp == datetime(2017, 6, 9, 20, 10, 40, tzinfo=UTC)
    assert first.service == "executor.CoarseGrainedExecutorBackend"
    assert first.message == "Registered signal handlers for [TERM, HUP, INT]"


def test_log4j_zookeeper_nested_thread_brackets() -> None:
    records = parse_lines(LOG4J, "loghub/Zookeeper_sample.log")
    assert all(r is not None for r in records)
    first, warn = records[0], records[25]
    assert first is not None and warn is not None
    assert first.fields == {
        "thread": "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181",
        "line": 774,
        "logger": "FastLeaderElection",
    }
    assert first.service == "FastLeaderElection"
    assert first.message == "Notification time out: 3200"
    assert warn.level is Level.WARNING and warn.service == "QuorumCnxManager$SendWorker"


def test_log4j_spring_boot_and_java_trace() -> None:
    records = fold_file(LOG4J, "log4j/spring-boot.log")
    assert [(r.line_no, r.end_line) for r in records] == [
        (1, 1), (2, 2), (3, 3), (4, 4), (5, 17), (18, 18), (19, 19),
    ]  # fmt: skip
    first, error, boot32 = records[0], records[4], records[5]
    assert (first.pid, first.fields["thread"], first.level) == (4321, "main", Level.INFO)
    assert first.service == "c.e.orders.OrdersApplication"
    assert error.service == "o.a.c.c.C.[.[.[/].[dispatcherServlet]"
    assert error.fields["thread"] == "nio-8080-exec-3"
    lines = error.message.splitlines()
    assert lines[0] == "Servlet.service() for servlet [dispatcherServlet] threw exception"
    assert "Caused by: java.net.ConnectException: Connection refused" in lines
    assert lines[-1] == "\t... 70 more"
    assert boot32.fields["app"] == "orders"
    assert boot32.timestamp == datetime(
        2026, 11, 23, 10, 0, 6, 100000, timezone(timedelta(hours=1))
    )


@pytest.mark.parametrize(
    ("line", "level", "logger", "thread", "message"),
    [
        ("2026-11-23 10:00:00,123 [main] INFO  com.example.App - started", Level.INFO,
         "com.example.App", "main", "started"),
        ("2026-11-23 10:00:00,123 ERROR com.example.App - boom", Level.ERROR,
         "com.example.App", None, "boom"),
        ("2026-11-23T10:00:00.123Z FATAL [pool-1] com.x.Y: gone", Level.CRITICAL,
         "com.x.Y", "pool-1", "gone"),
    ],
)  # fmt: skip
def test_log4j_other_layouts(
    line: str, level: Level, logger: str, thread: str | None, message: str
) -> None:
    rec = LOG4J.parse(line)
    assert rec is not None
    assert (rec.level, rec.service, rec.fields.get("thread"), rec.message) == (
        level, logger, thread, message,
    )  # fmt: skip


def test_android_logcat_threadtime() -> None:
    records = parse_lines(LOGCAT, "loghub/Android_sample.log")
    assert all(r is not None for r in records)
    first, warn = records[0], records[25]
    assert first is not None and warn is not None
    assert first.timestamp == datetime(2026, 3, 17, 16, 13, 38, 811000, tzinfo=UTC)
    assert (first.level, first.pid, first.service, first.fields) == (
        Level.DEBUG, 1702, "WindowManager", {"tid": 2395},
    )  # fmt: skip
    assert first.message.startswith("printFreezingDisplayLogsopening app wtoken")
    assert warn.level is Level.WARNING and warn.service == "ActivityManager"


def test_android_logcat_year_assert_and_marker() -> None:
    rec = LOGCAT.parse("2025-12-31 23:59:59.999  100  200 A libc: Fatal signal 6")
    assert rec is not None and rec.level is Level.CRITICAL
    assert rec.timestamp == datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    marker = LOGCAT.parse("--------- beginning of crash")
    assert marker is not None and marker.message == "--------- beginning of crash"
