"""Oversize bodies get 413, malformed ones 400, unsupported encodings 415 — each with a
message that says what was wrong, in the shape the caller's protocol expects; never a 5xx."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.api_server import RunningApi, options_for, running_api

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """A server whose bodies may be at most 64 KiB (uploads too)."""
    folder: Path = tmp_path_factory.mktemp("limits")
    with running_api(options_for(folder, max_body_bytes=LIMIT, max_upload_bytes=LIMIT)) as api:
        yield api


def _big() -> bytes:
    return b"ERROR a line that repeats\n" * (LIMIT // 10)


@pytest.mark.parametrize("path", ["/v1/logs", "/loki/api/v1/push", "/_bulk", "/v1/analyze"])
def test_oversize_with_content_length(small_api: RunningApi, path: str) -> None:
    with small_api.client() as client:
        response = client.post(path, content=_big())
    assert response.status_code == 413
    assert "over the 64 KiB limit" in response.text


def test_oversize_chunked_without_length(small_api: RunningApi) -> None:
    """A streamed body is stopped when it passes the limit, not buffered whole."""

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 4096

    with small_api.client() as client:
        response = client.post("/v1/logs", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"].startswith("request body over the")


def test_gzip_bomb_is_stopped_at_the_limit(small_api: RunningApi) -> None:
    bomb = gzip.compress(b"\n" * (50 * 1024 * 1024))
    assert len(bomb) < LIMIT
    with small_api.client() as client:
        response = client.post("/v1/logs", content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("path", "body", "headers", "words"),
    [
        ("/v1/logs", b'{"a": 1}\nnot json\n', {"Content-Type": "application/x-ndjson"}, "line 2"),
        ("/v1/logs", b"[1, 2]", {"Content-Type": "application/json"}, "array item 1"),
        ("/v1/logs", b"x", {"Content-Type": "image/png"}, "not supported"),
        ("/v1/logs?format=nope", b"x", {}, "unknown format"),
        ("/loki/api/v1/push", b"{not json", {"Content-Type": "application/json"}, "not valid"),
        ("/loki/api/v1/push", b'{"streams": 3}', {"Content-Type": "application/json"}, "streams"),
        (
            "/loki/api/v1/push",
            b'{"streams": [{"stream": {}, "values": [["yesterday", "x"]]}]}',
            {"Content-Type": "application/json"},
            "nanoseconds",
        ),
        ("/v1/otlp/logs", b"[]", {"Content-Type": "application/json"}, "resourceLogs"),
        ("/v1/logs", b"\x1f\x8b\x08junk", {"Content-Encoding": "gzip"}, "not valid gzip"),
        ("/v1/incidents?limit=0", b"", {}, "limit"),
        ("/v1/incidents?since=yesterday", b"", {}, "since"),
        ("/v1/incidents?severity=awful", b"", {}, "severity"),
    ],
)
def test_malformed_is_400_with_a_reason(
    small_api: RunningApi, path: str, body: bytes, headers: dict[str, str], words: str
) -> None:
    method = "GET" if path.startswith("/v1/incidents") else "POST"
    with small_api.client() as client:
        response = client.request(method, path, content=body, headers=headers)
    expected = 415 if "image/png" in headers.values() else 400
    assert response.status_code == expected, response.text
    message = json.dumps(response.json())
    assert words in message, message


def test_bulk_errors_in_elasticsearch_shape(small_api: RunningApi) -> None:
    with small_api.client() as client:
        broken = client.post("/_bulk", content=b"not an action\n{}\n")
        missing = client.post("/_bulk", content=b'{"index": {}}\n')
    assert broken.status_code == 400
    assert broken.json()["error"]["type"] == "illegal_argument_exception"
    assert "line 1" in broken.json()["error"]["reason"]
    assert missing.status_code == 400
    assert "no document line" in missing.json()["error"]["reason"]


def test_a_bad_document_fails_only_its_item(small_api: RunningApi) -> None:
    body = b'{"index": {}}\n{"message": "ok line"}\n{"index": {}}\n[1, 2]\n'
    with small_api.client() as client:
        response = client.post("/_bulk", content=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["errors"] is True
    statuses = [item["index"]["status"] for item in answer["items"]]
    assert statuses == [201, 400]


@pytest.mark.parametrize("path", ["/_bulk", "/foo/_bulk"])
def test_protobuf_is_415_with_a_hint(small_api: RunningApi, path: str) -> None:
    """Protobuf means Loki or OTLP (tests/api/test_api_protobuf.py); elsewhere it is refused."""
    with small_api.client() as client:
        response = client.post(
            path, content=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}
        )
    assert response.status_code == 415
    assert "send JSON" in response.text


def test_otlp_errors_are_rpc_status(small_api: RunningApi) -> None:
    with small_api.client() as client:
        response = client.post("/v1/otlp/logs", content=b"{")
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert "not valid JSON" in response.json()["message"]


def test_unknown_incident_is_404(small_api: RunningApi) -> None:
    with small_api.client() as client:
        response = client.get("/v1/incidents/INC-nothing")
    assert response.status_code == 404
    assert "no stored incident" in response.json()["error"]


def test_refusals_are_counted(small_api: RunningApi) -> None:
    with small_api.client() as client:
        client.post("/v1/logs", content=b'{"a"', headers={"Content-Type": "application/json"})
    assert (
        small_api.metric(
            "aiops_ingest_rejected_requests_total", endpoint="logs", reason="malformed"
        )
        >= 1
    )
