"""Protobuf pushes: Loki's (Promtail, Grafana Alloy) and OTLP/HTTP's (the Collector's default).

Bodies are encoded by the real protobuf library (Loki's messages declared from its
``push.proto`` in :mod:`api.loki_proto_messages`, OTLP's from the ``opentelemetry-proto``
package), so the server's readers are checked against an independent encoder: the same logs
pushed as protobuf and as JSON must give the same records, and real failures pushed over
real HTTP must end up as the same incidents.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2

from aiops_copilot.api.body import BodyTooLarge, inflate, snappy_raw
from aiops_copilot.api.decode.common import Builder, Decoded, FormatMemory
from aiops_copilot.api.decode.loki import decode_loki
from aiops_copilot.api.decode.loki_proto import decode_loki_proto
from aiops_copilot.api.decode.otlp import decode_otlp
from aiops_copilot.api.decode.otlp_proto import decode_otlp_proto
from aiops_copilot.api.errors import ApiError
from aiops_copilot.models import LogRecord
from api.api_server import RunningApi, eval_lines
from api.loki_proto_messages import Stream, promtail_body, push_request

LIMIT = 10 * 1024 * 1024


def _builder() -> Builder:
    return Builder(FormatMemory(), max_line_bytes=65536)


def _records(decoded: Decoded) -> list[LogRecord]:
    return [record for batch in decoded.batches for record in batch.records]


def _same(left: list[LogRecord], right: list[LogRecord]) -> None:
    assert [asdict(r) for r in left] == [asdict(r) for r in right]


def _loki_json(streams: list[Stream]) -> bytes:
    return json.dumps(
        {
            "streams": [
                {
                    "stream": dict(labels),
                    "values": [[str(n), line, dict(meta)] for n, line, meta in entries],
                }
                for labels, entries in streams
            ]
        }
    ).encode()


# -- Loki: the decoder ---------------------------------------------------------------------------

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
_lines = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
_entries = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4_000_000_000 * 10**9),
        _lines,
        st.dictionaries(_names, _values.filter(bool), max_size=3),
    ),
    min_size=1,
    max_size=8,
)
_streams = st.lists(
    st.tuples(st.dictionaries(_names, _values.filter(bool), max_size=4), _entries),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(streams=_streams)
def test_loki_protobuf_gives_the_json_records(streams: list[Stream]) -> None:
    """Any push, sent as Promtail's snappy protobuf and as Loki JSON: the same records."""
    decoded = decode_loki_proto(promtail_body(streams), _builder(), limit=LIMIT, compressed=True)
    assert decoded.skipped == 0  # every entry has a timestamp
    from_proto = _records(decoded)
    from_json = _records(decode_loki(_loki_json(streams), _builder()))
    _same(from_proto, from_json)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_loki_protobuf_garbage_is_a_400(data: bytes) -> None:
    """Arbitrary bytes, compressed or not: records or a clean 400, never anything else."""
    for compressed, body in ((False, data), (True, bytes(cramjam.snappy.compress_raw(data)))):
        try:
            decode_loki_proto(body, _builder(), limit=LIMIT, compressed=compressed)
        except ApiError as exc:
            assert exc.status_code == 400


def test_loki_protobuf_truncated_and_uncompressed() -> None:
    body = push_request([({"job": "a"}, [(1_700_000_000 * 10**9, "x" * 200, {})])])
    with pytest.raises(ApiError, match="not a Loki PushRequest"):
        decode_loki_proto(body[:-30], _builder(), limit=LIMIT, compressed=False)
    with pytest.raises(ApiError, match="not valid snappy"):  # Loki's body is always snappy
        decode_loki_proto(body, _builder(), limit=LIMIT, compressed=True)


def test_loki_protobuf_entry_without_timestamp_is_skipped() -> None:
    from api.loki_proto_messages import CLASSES

    request = CLASSES["PushRequest"]()
    stream = request.streams.add(labels='{job="app"}')
    stream.entries.add(line="no time here")
    good = stream.entries.add(line="with a time")
    good.timestamp.seconds = 1_700_000_000
    decoded = decode_loki_proto(
        request.SerializeToString(), _builder(), limit=LIMIT, compressed=False
    )
    assert [r.message for r in _records(decoded)] == ["with a time"]
    assert decoded.skipped == 1 and "no timestamp" in (decoded.problem or "")


def test_snappy_is_bounded_before_it_is_undone() -> None:
    """A small body claiming a huge size is refused from its header, nothing allocated."""
    bomb = bytes(cramjam.snappy.compress_raw(b"\0" * 2_000_000))
    assert len(bomb) < 200_000
    with pytest.raises(BodyTooLarge):
        snappy_raw(bomb, 1_000_000)
    assert snappy_raw(bomb, 2_000_000) == b"\0" * 2_000_000
    data = b"line\n" * 100  # Content-Encoding: snappy is undone like gzip
    assert inflate(bytes(cramjam.snappy.compress_raw(data)), "snappy", 10_000) == data
    with pytest.raises(ApiError) as broken:
        inflate(b"\x80\x80\x80", "snappy", 10_000)
    assert broken.value.status_code == 400


# -- OTLP: the decoder ---------------------------------------------------------------------------


def _otlp_pair(items: list[tuple[str, str, int, str]]) -> tuple[bytes, bytes]:
    """The same request as protobuf and as OTLP JSON: (service, line, severity, trace id)."""
    request = logs_service_pb2.ExportLogsServiceRequest()
    body: dict[str, Any] = {"resourceLogs": []}
    for service in sorted({item[0] for item in items}):
        resource = request.resource_logs.add()
        resource.resource.attributes.add(
            key="service.name", value=common_pb2.AnyValue(string_value=service)
        )
        scope = resource.scope_logs.add()
        json_records = []
        for number, (owner, line, severity, trace) in enumerate(items):
            if owner != service:
                continue
            stamp = 1_700_000_000_000_000_000 + number
            record = logs_pb2.LogRecord(
                time_unix_nano=stamp,
                severity_number=severity,
                body=common_pb2.AnyValue(string_value=line),
                trace_id=bytes.fromhex(trace),
            )
            record.attributes.add(key="log.file.path", value=common_pb2.AnyValue(string_value="a"))
            scope.log_records.append(record)
            json_records.append(
                {
                    "timeUnixNano": str(stamp),
                    "severityNumber": severity,
                    "body": {"stringValue": line},
                    "traceId": trace,
                    "attributes": [{"key": "log.file.path", "value": {"stringValue": "a"}}],
                }
            )
        body["resourceLogs"].append(
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeLogs": [{"logRecords": json_records}],
            }
        )
    return request.SerializeToString(), json.dumps(body).encode()


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            st.sampled_from(["checkout", "redis", "api"]),
            _lines,
            st.integers(min_value=0, max_value=24),
            st.binary(min_size=16, max_size=16).map(bytes.hex),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_otlp_protobuf_gives_the_json_records(items: list[tuple[str, str, int, str]]) -> None:
    binary, text = _otlp_pair(items)
    _same(
        _records(decode_otlp_proto(binary, _builder())),
        _records(decode_otlp(text, _builder())),
    )


def test_otlp_protobuf_garbage_is_a_400() -> None:
    with pytest.raises(ApiError) as refused:
        decode_otlp_proto(b"\x0a\xff\xff\xff\xff\x0f", _builder())
    assert refused.value.status_code == 400


# -- over real HTTP ------------------------------------------------------------------------------


def _incident_titles(api: RunningApi, domain: str) -> list[str]:
    with api.client() as client:
        response = client.get("/v1/incidents", params={"domain": domain})
    assert response.status_code == 200, response.text
    return [item["title"].lower() for item in response.json()["items"]]


def test_promtail_push_of_an_ssh_brute_force(api: RunningApi) -> None:
    """auth.log of a real brute force, pushed as Promtail does: found like the file."""
    lines = eval_lines("security/ssh-password-bruteforce", "auth.log")
    now = time.time_ns()
    labels = {"job": "sshd", "host": "bastion", "filename": "/var/log/auth.log"}
    body = promtail_body([(labels, [(now + i, line, {}) for i, line in enumerate(lines)])])
    with api.client() as client:
        response = client.post(
            "/loki/api/v1/push", content=body, headers={"Content-Type": "application/x-protobuf"}
        )
    assert response.status_code == 204, response.text
    assert api.flush()["records"] == len(lines)
    titles = _incident_titles(api, "security")
    assert any("brute" in title or "password" in title for title in titles), titles
    assert api.metric("aiops_ingest_records_total", endpoint="loki") == len(lines)


@pytest.mark.parametrize("path", ["/v1/logs", "/v1/otlp/logs"])
def test_otlp_protobuf_over_http(api: RunningApi, path: str) -> None:
    """The Collector's default (protobuf, on /v1/logs unless told otherwise): a Java NPE is
    found, and the answer is a protobuf ExportLogsServiceResponse."""
    lines = eval_lines("application/java-npe-missing-customer-under-load", "order-service.log")
    request = logs_service_pb2.ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(
        key="service.name", value=common_pb2.AnyValue(string_value=f"orders{len(path)}")
    )
    scope = resource.scope_logs.add()
    for line in lines:
        scope.log_records.add(
            observed_time_unix_nano=time.time_ns(), body=common_pb2.AnyValue(string_value=line)
        )
    with api.client() as client:
        response = client.post(
            path,
            content=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-protobuf"
    answer = logs_service_pb2.ExportLogsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_log_records == 0
    assert 0 < api.flush()["records"] <= len(lines)  # the stack trace folds into one record
    titles = _incident_titles(api, "application")
    assert any("nullpointer" in title or "null" in title for title in titles), titles


def test_protobuf_where_it_means_nothing_is_415(api: RunningApi) -> None:
    with api.client() as client:
        response = client.post(
            "/_bulk", content=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}
        )
    assert response.status_code == 415
