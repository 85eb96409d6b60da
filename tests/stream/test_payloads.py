"""Message payloads become records as ``aiops serve`` makes them: formats detected and
remembered, stack traces folded, JSON records and envelopes, Loki and OTLP bodies."""

from __future__ import annotations

import json

from aiops_copilot.models import Level
from aiops_copilot.stream.broker import Message
from aiops_copilot.stream.payloads import PayloadDecoder

from .conftest import pg_log


def messages(*payloads: str | bytes) -> list[Message]:
    return [
        Message(str(n), p if isinstance(p, bytes) else p.encode()) for n, p in enumerate(payloads)
    ]


def test_lines_are_parsed_in_their_format_and_numbered_across_batches() -> None:
    decoder = PayloadDecoder()
    lines = pg_log(40)
    first = decoder.decode(messages(*lines[:20]), "redis:app")
    second = decoder.decode(messages(*lines[20:]), "redis:app")
    records = first + second
    assert len(records) == 40
    assert {r.format for r in records} == {"postgresql"} and {r.source for r in records} == {
        "redis:app"
    }
    assert [r.line_no for r in records] == list(range(1, 41))
    fatal = [r for r in records if "connection slots" in r.message]
    assert len(fatal) == 4 and all(r.level is Level.CRITICAL for r in fatal)


def test_a_stack_trace_in_one_message_or_spread_over_several_is_one_record() -> None:
    trace = [
        "2026-11-24 10:00:00,000 ERROR app: request failed",
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in handler',
        "    db.query()",
        "TimeoutError: timed out",
    ]
    after = "2026-11-24 10:00:01,000 INFO app: next request"
    whole = PayloadDecoder().decode(messages("\n".join(trace), after), "nats:APP")
    spread = PayloadDecoder().decode(messages(*trace, after), "nats:APP")
    for records in (whole, spread):
        assert len(records) == 2
        assert records[0].message.startswith("request failed")
        assert "TimeoutError: timed out" in (records[0].raw or "")


def test_json_records_envelopes_and_pretty_objects() -> None:
    record = json.dumps({"ts": "2026-11-24T10:00:00Z", "level": "error", "msg": "disk full"})
    envelope = json.dumps({"message": "2026-11-24 10:00:00 UTC [7] LOG:  checkpoint starting"})
    pretty = json.dumps({"level": "warning", "msg": "slow query", "ms": 900}, indent=2)
    records = PayloadDecoder().decode(messages(record, envelope, pretty), "redis:app")
    assert [r.level for r in records] == [Level.ERROR, Level.INFO, Level.WARNING]
    assert records[0].message == "disk full" and records[2].message == "slow query"
    assert records[1].message == "checkpoint starting"


def test_loki_and_otlp_bodies_use_the_api_decoders() -> None:
    loki = {
        "streams": [
            {
                "stream": {"job": "api", "filename": "/var/log/api.log"},
                "values": [["1795000000000000000", 'level=error msg="upstream timed out"']],
            }
        ]
    }
    otlp = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]
                },
                "scopeLogs": [
                    {"logRecords": [{"severityText": "ERROR", "body": {"stringValue": "boom"}}]}
                ],
            }
        ]
    }
    records = PayloadDecoder().decode(messages(json.dumps(loki), json.dumps(otlp)), "nats:X")
    by_source = {r.source: r for r in records}
    assert by_source["/var/log/api.log"].message == "upstream timed out"
    assert by_source["otlp/web"].message == "boom" and by_source["otlp/web"].level is Level.ERROR


def test_bad_payloads_are_counted_not_fatal() -> None:
    decoder = PayloadDecoder()
    records = decoder.decode(
        messages(b"", b"   \n", b"caf\xe9 au lait: ERROR broken", json.dumps({"streams": 3})),
        "redis:app",
    )
    assert len(records) == 1 and "\ufffd" in records[0].message
    assert decoder.stats.skipped == 3 and decoder.stats.invalid_utf8 == 1
    assert decoder.stats.messages == 4 and decoder.stats.records == 1


def test_binary_otlp_as_the_collectors_kafka_exporter_writes_it() -> None:
    """``otlp_proto``, the Collector's default for Kafka: one request per message, decoded as
    ``aiops serve`` decodes it; text that merely starts like one is still text."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(key="service.name", value=AnyValue(string_value="pay"))
    scope = resource.scope_logs.add()
    for line in ("payment 42 declined: card expired", "payment 43 declined: card expired"):
        scope.log_records.add(
            time_unix_nano=1_795_000_000_000_000_000,
            severity_number=17,  # ERROR
            body=AnyValue(string_value=line),
        )
    decoder = PayloadDecoder()
    records = decoder.decode(
        messages(request.SerializeToString(), b"\n\x01not a request", b"plain line"),
        "kafka:otlp_logs",
    )
    assert [(r.source, r.message, r.level) for r in records[:2]] == [
        ("otlp/pay", "payment 42 declined: card expired", Level.ERROR),
        ("otlp/pay", "payment 43 declined: card expired", Level.ERROR),
    ]
    assert [r.source for r in records[2:]] == ["kafka:otlp_logs", "kafka:otlp_logs"]
    assert decoder.stats.skipped == 0
