"""Each ingestion protocol over real HTTP: real failures' logs pushed the way a shipper sends
them, analysed by the live pipeline on a flush, and the incident found in the store.

One real failure per protocol (tests/evals), so each protocol's incident has its own domain:
plain text (nginx refusing upstream connections), NDJSON (a Node service's JSON logs),
Loki push with gzip (PostgreSQL out of connection slots), Elasticsearch bulk shaped like
Filebeat's documents (an SSH password brute force), OTLP/HTTP JSON (Redis on a full disk).
"""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

from api.api_server import RunningApi, eval_lines


def _incidents(api: RunningApi, domain: str) -> list[dict[str, Any]]:
    with api.client() as client:
        response = client.get("/v1/incidents", params={"domain": domain})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _analysed_and_found(api: RunningApi, count: int, domain: str, words: str) -> None:
    """The pushed records were all analysed and an incident of ``domain`` says ``words``."""
    flushed = api.flush()
    assert flushed["records"] == count
    titles = [item["title"].lower() for item in _incidents(api, domain)]
    assert any(words in title for title in titles), titles


def test_plain_text_lines(api: RunningApi) -> None:
    lines = eval_lines("network/nginx-upstream-connection-refused", "error.log")
    with api.client() as client:
        response = client.post(
            "/v1/logs",
            params={"source": "nginx/error.log"},
            content="\n".join(lines).encode(),
            headers={"Content-Type": "text/plain"},
        )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(lines)
    _analysed_and_found(api, len(lines), "network", "connection refused")


def test_ndjson(api: RunningApi) -> None:
    lines = eval_lines("network/app-dependency-connection-refused", "inventory-sync.log")
    with api.client() as client:
        response = client.post(
            "/v1/logs",
            params={"source": "inventory-sync.log"},
            content="\n".join(lines).encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(lines)
    flushed = api.flush()
    assert flushed["records"] == len(lines)
    found = _incidents(api, "network")
    assert any("warehouse" in item["title"].lower() for item in found), found


def test_loki_push_gzip(api: RunningApi) -> None:
    lines = eval_lines("database/postgres-connection-leak-slots-exhausted", "postgresql.log")
    now = time.time_ns()
    body = {
        "streams": [
            {
                "stream": {"job": "postgres", "filename": "/var/log/postgresql/main.log"},
                "values": [[str(now + i), line] for i, line in enumerate(lines)],
            }
        ]
    }
    with api.client() as client:
        response = client.post(
            "/loki/api/v1/push",
            content=gzip.compress(json.dumps(body).encode()),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    assert response.status_code == 204, response.text
    flushed = api.flush()
    assert 0 < flushed["records"] <= len(lines)  # DETAIL/STATEMENT lines fold into records
    found = _incidents(api, "database")
    assert any("connection slots" in item["title"].lower() for item in found), found


def test_elasticsearch_bulk_like_filebeat(api: RunningApi) -> None:
    lines = eval_lines("security/ssh-password-bruteforce", "auth.log")
    body = []
    for line in lines:
        body.append(json.dumps({"create": {"_index": "filebeat-8.11.0"}}))
        body.append(
            json.dumps(
                {
                    "@timestamp": "2026-11-24T00:00:00.000Z",
                    "message": line,
                    "log": {"file": {"path": "/var/log/auth.log"}, "offset": 0},
                    "host": {"name": "bastion"},
                    "agent": {"type": "filebeat"},
                }
            )
        )
    with api.client() as client:
        response = client.post(
            "/_bulk",
            content=("\n".join(body) + "\n").encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["errors"] is False
    assert len(answer["items"]) == len(lines)
    assert all(item["create"]["status"] == 201 for item in answer["items"])
    flushed = api.flush()
    assert flushed["records"] == len(lines)
    found = _incidents(api, "security")
    assert any("brute force" in item["title"].lower() for item in found), found


def test_otlp_logs(api: RunningApi) -> None:
    records = []
    for service, log in (("redis", "redis.log"), ("order-producer", "order-producer.log")):
        for line in eval_lines("infrastructure/disk-full-redis-aof-volume", log):
            records.append((service, line))

    def resource(service: str) -> dict[str, Any]:
        return {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
            },
            "scopeLogs": [
                {
                    "scope": {"name": "filelog"},
                    "logRecords": [
                        {
                            "observedTimeUnixNano": str(time.time_ns()),
                            "body": {"stringValue": line},
                            "attributes": [
                                {"key": "log.file.path", "value": {"stringValue": f"{s}.log"}}
                            ],
                        }
                        for s, line in records
                        if s == service
                    ],
                }
            ],
        }

    body = {"resourceLogs": [resource("redis"), resource("order-producer")]}
    with api.client() as client:
        response = client.post("/v1/otlp/logs", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {}
    flushed = api.flush()
    assert 0 < flushed["records"] <= len(records)
    found = _incidents(api, "infrastructure")
    assert any("disk full" in item["title"].lower() for item in found), found


def test_every_accepted_record_counted(api: RunningApi) -> None:
    """Metrics agree with what the endpoints said they accepted (none lost between)."""
    with api.client() as client:
        client.post("/v1/logs", content=b"one line\nanother line\n")
    api.flush()
    accepted = sum(
        api.metric("aiops_ingest_records_total", endpoint=endpoint)
        for endpoint in ("logs", "loki", "elasticsearch", "otlp")
    )
    assert accepted > 0
    assert api.metric("aiops_ingest_processed_records_total") == accepted
    assert api.metric("aiops_pipeline_records_total") == accepted
    assert api.metric("aiops_ingest_queue_records") == 0
