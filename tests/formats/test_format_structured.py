"""JSON lines, container logs (Docker json-file, CRI) and logfmt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from format_helpers import fold_file, parse_lines

from aiops_copilot.ingest.formats.json_lines import JsonFormat
from aiops_copilot.ingest.formats.k8s import K8sContainerFormat
from aiops_copilot.ingest.formats.logfmt import LogfmtFormat, parse_pairs
from aiops_copilot.models import Level

JSON = JsonFormat()
K8S = K8sContainerFormat()
LOGFMT = LogfmtFormat()


def test_json_node_output_epoch_millis_and_numeric_levels() -> None:
    records = parse_lines(JSON, "json/node-bunyan-style.log")
    assert all(r is not None for r in records)
    first, slow, failed = records[0], records[3], records[4]
    assert first is not None and slow is not None and failed is not None
    assert first.timestamp is not None and first.timestamp.tzinfo is UTC
    assert first.timestamp.year == 2026
    assert (first.level, first.host, first.service) == (Level.INFO, "web-1", "orders-api")
    assert first.message == "server listening" and first.fields == {"port": 8080}
    assert slow.level is Level.WARNING and slow.fields["duration_ms"] == 1834
    assert failed.level is Level.ERROR
    assert failed.fields["err"]["message"] == "user 9 not found"
    assert isinstance(first.pid, int)


def test_json_journald_export_keys() -> None:
    records = parse_lines(JSON, "json/journalctl-252-json.log")
    backup = records[0]
    assert backup is not None
    assert backup.message == "rsync failed: exit code 23 (partial transfer)"
    assert backup.level is Level.ERROR  # PRIORITY "3"
    assert (backup.host, backup.service, backup.pid) == ("vm", "backup-job", 8828)
    assert backup.timestamp is not None
    assert backup.timestamp.date() == datetime(2026, 11, 23, tzinfo=UTC).date()
    assert "MESSAGE" not in backup.fields and "_TRANSPORT" in backup.fields


@pytest.mark.parametrize(
    ("index", "timestamp", "level", "message", "host", "service", "pid", "fields"),
    [
        (0, datetime(2026, 11, 23, 10, 0, tzinfo=UTC), Level.INFO, "Started Api in 3.2 seconds",
         "api-1", "com.example.Api", None, {"thread": "main"}),
        (1, datetime(2026, 11, 23, 10, 0, 1, 250000, tzinfo=UTC), Level.WARNING, "retrying",
         None, "checkout", None, {"attempt": 2}),
        (2, datetime.fromtimestamp(1795471200, UTC), Level.ERROR, "payment provider timeout",
         None, "payments", None, {"provider": "acme", "latency_ms": 30012}),
        (3, datetime.fromtimestamp(1795471201.5, UTC), Level.DEBUG, "cache.get",
         None, "cache", None, {"hit": True}),
        (4, datetime(2026, 11, 23, 10, 0, 3, tzinfo=UTC), Level.CRITICAL, "out of memory",
         "batch-7", "worker", 2211, {}),
        (5, datetime(2026, 11, 23, 10, 0, 4, tzinfo=timezone(timedelta(hours=2))), Level.NOTICE,
         "config reloaded", None, None, 88, {}),
        (6, None, Level.INFO, "no timestamp at all here", None, None, None, {}),
    ],
)  # fmt: skip
def test_json_key_variants(
    index: int,
    timestamp: datetime | None,
    level: Level,
    message: str,
    host: str | None,
    service: str | None,
    pid: int | None,
    fields: dict[str, object],
) -> None:
    rec = parse_lines(JSON, "json/mixed-keys.log")[index]
    assert rec is not None
    assert (rec.timestamp, rec.level, rec.message) == (timestamp, level, message)
    assert (rec.host, rec.service, rec.pid, rec.fields) == (host, service, pid, fields)
    assert rec.format == "json"


@pytest.mark.parametrize(
    "line", ["", "{", "[1, 2]", '"text"', "{not json}", "plain text", "{" * 5000 + "}" * 5000]
)
def test_json_rejects_non_objects(line: str) -> None:
    assert JSON.parse(line) is None


def test_json_without_message_key_keeps_the_line() -> None:
    rec = JSON.parse('{"level": "warn", "event_count": 3}')
    assert rec is not None and rec.level is Level.WARNING
    assert rec.message == '{"level": "warn", "event_count": 3}'


def test_docker_json_file_with_inner_json_and_text() -> None:
    records = parse_lines(K8S, "k8s_docker_json/docker-json-file.log")
    assert all(r is not None for r in records)
    nginx, access, inner_json, severity = records[0], records[1], records[2], records[3]
    assert nginx is not None and access is not None
    assert inner_json is not None and severity is not None
    assert nginx.timestamp == datetime(2026, 11, 23, 10, 0, 0, 14573, tzinfo=UTC)
    assert nginx.message == "2026/11/23 10:00:00 [notice] 1#1: start worker processes"
    assert nginx.fields == {"stream": "stderr"} and nginx.level is Level.UNKNOWN
    assert access.fields["stream"] == "stdout" and access.message.startswith("10.0.0.7 - - [")
    assert inner_json.level is Level.WARNING and inner_json.message == "cache miss rate high"
    assert inner_json.fields["rate"] == 0.42
    assert inner_json.timestamp == datetime(2026, 11, 23, 10, 0, 2, 511, tzinfo=UTC)
    assert severity.level is Level.ERROR and severity.fields["order_id"] == 991


def test_cri_lines() -> None:
    records = parse_lines(K8S, "k8s_docker_json/cri-containerd.log")
    assert all(r is not None for r in records)
    first, klog, partial, last = records[0], records[1], records[3], records[8]
    assert first is not None and klog is not None and partial is not None and last is not None
    assert first.timestamp == datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    assert (first.level, first.service, first.message) == (
        Level.INFO,
        "controller",
        "Starting workers",
    )
    assert first.fields["worker count"] == 4 and first.fields["stream"] == "stdout"
    assert klog.fields == {"stream": "stderr"}
    assert klog.message.startswith("I1123 10:00:01.000000       1 leaderelection.go:248]")
    assert partial.fields["partial"] is True
    assert last.timestamp == datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)


def test_cri_python_traceback_folds_per_stream() -> None:
    records = fold_file(K8S, "k8s_docker_json/cri-containerd.log")
    assert [(r.line_no, r.end_line) for r in records] == [
        (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 8), (9, 9),
    ]  # fmt: skip
    trace = records[5]
    assert trace.message.splitlines()[-1] == "ValueError: bad port: 'abc'"


def test_docker_java_trace_folds() -> None:
    records = fold_file(K8S, "k8s_docker_json/docker-json-file.log")
    assert [(r.line_no, r.end_line) for r in records][-1] == (5, 6)


def test_k8s_does_not_claim_plain_json() -> None:
    assert K8S.parse('{"level":"info","msg":"hello"}') is None
    assert K8S.parse("2026-11-23T10:00:00Z something else") is None


def test_logfmt_sample() -> None:
    records = parse_lines(LOGFMT, "logfmt/app-logfmt.log")
    assert all(r is not None for r in records)
    start, slow, failed, logrus, prom, grafana = (records[i] for i in (0, 2, 3, 4, 5, 6))
    assert start is not None and start.message == "starting server"
    assert start.timestamp == datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
    assert start.fields == {"caller": "main.go:42", "addr": ":8080", "version": "1.9.2"}
    assert slow is not None and slow.level is Level.WARNING and slow.service == "db"
    assert slow.fields["query"] == 'SELECT * FROM "orders" WHERE id=$1'
    assert failed is not None and failed.level is Level.ERROR
    assert failed.fields["err"] == "dial tcp 10.0.0.9:443: connect: connection refused"
    assert failed.fields["status"] == "502"
    assert logrus is not None and logrus.host == "node-3" and logrus.message == "Pulling image"
    assert prom is not None and prom.service == "rule manager"
    assert grafana is not None and grafana.level is Level.ERROR
    assert grafana.timestamp == datetime(2026, 11, 23, 10, 0, 6, tzinfo=UTC)
    assert grafana.service == "alerting.notifier"
    assert grafana.fields["empty"] == "" and grafana.fields["flag"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a=1 b="x y"', {"a": "1", "b": "x y"}),
        (r'msg="say \"hi\"\n" n=2', {"msg": 'say "hi"\n', "n": "2"}),
        ("a=1", None),
        ('a="x"y b=2', None),
    ],
)
def test_logfmt_tokeniser(text: str, expected: dict[str, object] | None) -> None:
    assert parse_pairs(text) == expected


def test_logfmt_rejects_prose() -> None:
    assert LOGFMT.parse("the value a=b was unexpected") is None
    assert LOGFMT.parse("2026-11-23 10:00:00 level=info msg=x") is None


def test_json_tolerates_bom_and_crlf() -> None:
    rec = JSON.parse('\ufeff{"msg": "first", "level": 30}\r\n')
    assert rec is not None and rec.message == "first" and rec.level is Level.INFO
