"""The decoders on their own: each shipper protocol's body to records, parsed like files."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.api.auth import presented
from aiops_copilot.api.body import BodyTooLarge, inflate
from aiops_copilot.api.decode.common import Builder, Decoded, Entry, FormatMemory
from aiops_copilot.api.decode.elastic import decode_bulk
from aiops_copilot.api.decode.lines import decode_logs
from aiops_copilot.api.decode.loki import decode_loki
from aiops_copilot.api.decode.otlp import decode_otlp
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.models import Level, LogRecord

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
SPRING = DATA / "log4j" / "spring-boot.log"
NGINX = DATA / "nginx_error" / "nginx-1.22-error.log"


def _builder(**kwargs: Any) -> Builder:
    return Builder(FormatMemory(), max_line_bytes=kwargs.pop("max_line_bytes", 65536), **kwargs)


def _records(decoded: Decoded) -> list[LogRecord]:
    return [record for batch in decoded.batches for record in batch.records]


def _file_records(path: Path) -> list[LogRecord]:
    run = open_inputs([str(path)])
    return list(iter_records(run, ReadOptions()))


def test_loki_lines_fold_like_the_file() -> None:
    """A Java stack trace shipped one line per entry is one record, as in the file."""
    lines = SPRING.read_text(encoding="utf-8").splitlines()
    body = {
        "streams": [
            {
                "stream": {"service_name": "orders", "host": "app1", "filename": "/var/log/o.log"},
                "values": [
                    [str(1_700_000_000_000_000_000 + n), line] for n, line in enumerate(lines)
                ],
            }
        ]
    }
    records = _records(decode_loki(json.dumps(body).encode(), _builder()))
    expected = _file_records(SPRING)
    assert [r.message for r in records] == [r.message for r in expected]
    assert [r.level for r in records] == [r.level for r in expected]
    assert {r.format for r in records} == {"log4j"}
    assert all(r.source == "/var/log/o.log" and r.host == "app1" for r in records)
    assert records[0].fields["service_name"] == "orders"
    traced = [r for r in records if r.is_multiline]
    assert traced and "Caused by: java.net.ConnectException" in traced[0].message


def test_loki_labels_fill_what_lines_lack() -> None:
    body = {
        "streams": [
            {
                "stream": {"job": "payments", "level": "error", "instance": "pay-7"},
                "values": [
                    ["1700000000000000000", "charge declined for order 12", {"trace": "t1"}]
                ],
            }
        ]
    }
    (record,) = _records(decode_loki(json.dumps(body).encode(), _builder()))
    assert record.service == "payments"
    assert record.host == "pay-7"
    assert record.level is Level.ERROR
    assert record.timestamp is not None and record.timestamp.year == 2023
    assert record.fields["trace"] == "t1"
    assert record.source == "loki/payments"


def test_loki_legacy_and_partial_skips() -> None:
    body = {
        "streams": [
            {
                "labels": '{app="billing", env="prod"}',
                "entries": [
                    {"ts": "2026-11-24T10:00:00Z", "line": "invoice 4 failed: card declined"},
                    {"ts": "not a time", "line": "skipped"},
                ],
            },
            "not a stream",
        ]
    }
    decoded = decode_loki(json.dumps(body).encode(), _builder())
    (record,) = _records(decoded)
    assert record.service == "billing" and record.fields["env"] == "prod"
    assert decoded.skipped == 2
    with pytest.raises(ApiError, match="nothing usable"):
        decode_loki(json.dumps({"streams": ["x"]}).encode(), _builder())


def test_otlp_record_fields() -> None:
    body = {
        "resource_logs": [  # the proto's snake_case names are accepted too
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "checkout"}},
                        {"key": "host.name", "value": {"stringValue": "node-3"}},
                    ]
                },
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000000000000000",
                                "severityNumber": 17,
                                "body": {"stringValue": "payment failed"},
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "attributes": [{"key": "order", "value": {"intValue": "991"}}],
                            },
                            {
                                "observedTimeUnixNano": 1700000001000000000,
                                "severityText": "WARN",
                                "body": {
                                    "kvlistValue": {
                                        "values": [
                                            {"key": "msg", "value": {"stringValue": "slow"}},
                                            {"key": "ms", "value": {"doubleValue": 812.5}},
                                        ]
                                    }
                                },
                            },
                            {
                                "severityNumber": "SEVERITY_NUMBER_FATAL",
                                "body": {"stringValue": "x"},
                            },
                        ]
                    }
                ],
            }
        ]
    }
    decoded = decode_otlp(json.dumps(body).encode(), _builder())
    first, second, third = _records(decoded)
    assert first.level is Level.ERROR and first.service == "checkout" and first.host == "node-3"
    assert first.fields["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert first.fields["order"] == 991
    assert first.timestamp is not None and first.timestamp.year == 2023
    assert second.format == "json" and second.message == "slow" and second.fields["ms"] == 812.5
    assert second.level is Level.WARNING and second.timestamp is not None
    assert third.level is Level.CRITICAL
    assert first.source == "otlp/checkout"


def test_bulk_documents_like_filebeat_and_vector() -> None:
    nginx = NGINX.read_text(encoding="utf-8").splitlines()[:20]
    lines = []
    for line in nginx:
        lines.append('{"index": {"_index": "filebeat"}}')
        doc = {"message": line, "log": {"file": {"path": "/var/log/nginx/error.log"}}}
        lines.append(json.dumps(doc))
    lines += [
        '{"create": {"_index": "vector", "_id": "v1"}}',
        json.dumps({"message": "disk almost full", "log": {"level": "warn"}, "file": "/x.log"}),
        '{"update": {"_id": "u"}}',
        '{"doc": {"a": 1}}',
        '{"delete": {"_id": "d"}}',
    ]
    request = decode_bulk("\n".join(lines).encode(), _builder())
    records = _records(request.decoded)
    parsed = [r for r in records if r.source == "/var/log/nginx/error.log"]
    expected = [r for r in _file_records(NGINX) if r.line_no <= 20]
    assert [r.message for r in parsed] == [r.message for r in expected]
    assert {r.format for r in parsed} == {"nginx_error"}
    (vector,) = [r for r in records if r.source == "/x.log"]
    assert vector.level is Level.WARNING
    kinds = [(next(iter(item)), next(iter(item.values()))["status"]) for item in request.items]
    assert kinds[-3:] == [("create", 201), ("update", 200), ("delete", 404)]
    assert request.errors is False


def test_ndjson_envelopes_and_structured_lines() -> None:
    body = "\n".join(
        [
            json.dumps({"level": "error", "msg": "db timeout", "service": "api"}),
            json.dumps({"message": "2026/11/23 22:00:35 [error] 7#7: *1 connect() failed"}),
            "",
        ]
    )
    decoded = decode_logs(
        body.encode(), "application/x-ndjson", source="s", service="fallback", builder=_builder()
    )
    structured, envelope = _records(decoded)
    assert structured.format == "json" and structured.level is Level.ERROR
    assert structured.service == "api"
    assert envelope.format == "nginx_error" and envelope.level is Level.ERROR
    assert envelope.service == "nginx"  # what the line says wins over the query's default
    assert [structured.line_no, envelope.line_no] == [1, 2]


def test_text_limits_and_bad_bytes() -> None:
    body = b"ok line\n" + b"x" * 5000 + b"\nbad \xff\xfe bytes\n"
    decoded = decode_logs(
        body, "text/plain", source="s", service=None, builder=_builder(max_line_bytes=1024)
    )
    records = _records(decoded)
    assert decoded.cut_lines == 1 and decoded.invalid_utf8 == 2
    assert max(len(r.message) for r in records) <= 1024
    assert any("\ufffd" in r.message for r in records)


def test_format_is_remembered_per_source() -> None:
    """One line per request still gets the source's format, once it was seen."""
    memory = FormatMemory()
    builder = Builder(memory, max_line_bytes=65536)
    lines = NGINX.read_text(encoding="utf-8").splitlines()
    first = Decoded()
    builder.batch("nginx", [Entry(text="\n".join(lines[:30]))], first)
    alone = Decoded()
    builder.batch("nginx", [Entry(text=lines[40])], alone)
    assert {r.format for r in _records(alone)} == {"nginx_error"}


def test_inflate() -> None:
    data = b"line\n" * 100
    assert inflate(gzip.compress(data), "gzip", 10_000) == data
    large = bytes(range(256)) * 2000  # members spanning several inflate slices
    assert inflate(gzip.compress(large) + gzip.compress(data), "gzip", 10**6) == large + data
    assert inflate(zlib.compress(data), "deflate", 10_000) == data
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert inflate(raw.compress(data) + raw.flush(), "deflate", 10_000) == data
    with pytest.raises(BodyTooLarge):
        inflate(gzip.compress(b"\0" * 1_000_000), "gzip", 10_000)
    with pytest.raises(ApiError) as brotli:
        inflate(data, "br", 10_000)
    assert brotli.value.status_code == 415
    with pytest.raises(ApiError) as truncated:
        inflate(gzip.compress(data)[:20], "gzip", 10_000)
    assert truncated.value.status_code == 400


def test_presented_token() -> None:
    assert presented("Bearer abc") == b"abc"
    assert presented("bearer   abc ") == b"abc"
    assert presented("Basic " + base64.b64encode(b"u:p:q").decode()) == b"p:q"
    assert presented("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert presented("Basic %%%") is None
    assert presented(None) is None and presented("Bearer") is None
