"""Multi-line folding: real Python/Go/Node crash output and the memory caps."""

from __future__ import annotations

from pathlib import Path

from aiops_copilot.ingest.formats import FormatSpec, get_format
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.models import Level, LogRecord

DATA = Path(__file__).resolve().parent / "data" / "formats"
PLAIN = get_format("plain")
LOG4J = get_format("log4j")
JSON = get_format("json")


def _fold(lines: list[str], spec: FormatSpec = PLAIN, **caps: int) -> list[LogRecord]:
    parser = spec.fit(lines)
    numbered = enumerate(lines, start=1)
    return list(fold_records(numbered, parser, multiline=spec.multiline, source="s", **caps))


def _file(relative: str) -> list[str]:
    return (DATA / relative).read_text(encoding="utf-8").splitlines()


def _ranges(records: list[LogRecord]) -> list[tuple[int, int]]:
    return [(r.line_no, r.end_line) for r in records]


def test_bare_python_traceback_is_one_record() -> None:
    lines = _file("multiline/python-bare-traceback.log")
    records = _fold(lines)
    assert _ranges(records) == [(1, 17)]
    record = records[0]
    assert record.message.startswith("Traceback (most recent call last):")
    assert record.message.endswith("RuntimeError: config /nonexistent/app.conf unavailable")
    assert record.raw == "\n".join(lines)
    assert (record.source, record.format, record.level) == ("s", "plain", Level.UNKNOWN)
    assert record.is_multiline


def test_go_panic_keeps_blank_line_and_exit_status() -> None:
    records = _fold(_file("multiline/go-panic.log"))
    assert _ranges(records) == [(1, 1), (2, 2), (3, 10)]
    panic = records[2].message.splitlines()
    assert panic[0] == "panic: runtime error: index out of range [5] with length 3"
    assert panic[1] == ""
    assert panic[2] == "goroutine 1 [running]:"
    assert panic[-1] == "exit status 2"


def test_node_stacks() -> None:
    records = _fold(_file("multiline/node-uncaught.log"))
    assert _ranges(records) == [(1, 1), (2, 11), (12, 23)]
    logged, uncaught = records[1], records[2]
    assert logged.message.splitlines()[0] == "Error: user 9 not found"
    assert logged.message.splitlines()[1].startswith("    at loadUser (/tmp/gen/crash.js:2:21)")
    uncaught_lines = uncaught.message.splitlines()
    assert uncaught_lines[0] == "/tmp/gen/crash.js:2"
    assert "Error: user 42 not found" in uncaught_lines  # after the caret, same record
    assert uncaught_lines[-1] == "Node.js v20.20.2"


JAVA = [
    "2026-11-23 10:00:00,001 INFO [main] com.example.App: starting",
    "2026-11-23 10:00:01,002 ERROR [main] com.example.App: request failed",
    "java.lang.IllegalStateException: outer",
    "\tat com.example.App.run(App.java:10)",
    "\tSuppressed: java.io.IOException: close failed",
    "\t\tat com.example.Res.close(Res.java:5)",
    "Caused by: java.lang.NullPointerException",
    "\tat com.example.Dao.find(Dao.java:42)",
    "\t... 12 more",
    "",
    "2026-11-23 10:00:02,003 INFO [main] com.example.App: recovered",
    "",
    "",
]


def test_java_trace_folds_into_log4j_head_and_trailing_blanks_vanish() -> None:
    records = _fold(JAVA, LOG4J)
    assert _ranges(records) == [(1, 1), (2, 9), (11, 11)]
    trace = records[1]
    assert trace.level is Level.ERROR and trace.service == "com.example.App"
    assert trace.message.splitlines()[-1] == "\t... 12 more"
    assert records[2].message == "recovered" and "\n" not in records[2].raw


def test_non_multiline_format_unparsed_lines_stand_alone() -> None:
    lines = [
        '{"level":"info","msg":"a"}',
        "some stray stderr text",
        "Exception in thread main java.lang.Error: x",
        "\tat a.b.C.d(C.java:1)",
        '{"level":"error","msg":"b"}',
    ]
    records = _fold(lines, JSON)
    assert _ranges(records) == [(1, 1), (2, 2), (3, 4), (5, 5)]
    stray = records[1]
    assert (stray.format, stray.level, stray.message) == ("json", Level.UNKNOWN, lines[1])


def test_line_cap_cuts_runaway_record() -> None:
    lines = ["2026-11-23 10:00:00,000 ERROR [t] a.B: boom"] + ["\tat x.y.Z.f(Z.java:1)"] * 10
    records = _fold(lines, LOG4J, max_record_lines=4)
    assert _ranges(records) == [(1, 4), (5, 8), (9, 11)]
    assert all(r.message.count("\n") < 4 for r in records)
    assert records[1].level is Level.UNKNOWN and records[1].format == "log4j"


def test_char_cap_cuts_runaway_record() -> None:
    lines = ["2026-11-23 10:00:00,000 ERROR [t] a.B: boom"] + ["  " + "x" * 100] * 50
    records = _fold(lines, LOG4J, max_record_chars=1000)
    assert all(len(r.raw) <= 1000 for r in records)
    assert sum(r.end_line - r.line_no + 1 for r in records) == len(lines)


def test_continuation_before_any_record_starts_one() -> None:
    records = _fold(["    indented first line", "2026-11-23 10:00:00,000 INFO [t] a.B: x"], LOG4J)
    assert _ranges(records) == [(1, 1), (2, 2)]
    assert records[0].message == "    indented first line"


def test_line_terminators_are_stripped() -> None:
    records = _fold(["hello\r\n", "  more\n"])
    assert records[0].message == "hello\n  more"


def test_python_exception_line_closes_traceback_state() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "ValueError: bad",
        "next message",
    ]
    assert _ranges(_fold(lines)) == [(1, 3), (4, 4)]
