"""The integration fixer, table-driven: partners, rate limits, gRPC, brokers, OAuth, schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain

D = Domain.INTEGRATION

CASES = [
    Case(
        "partner-503-retries-exhausted",
        [
            "order ORD-100 sync failed after retries: HTTPConnectionPool(host='partner.example', "
            "port=443): Max retries exceeded with url: /v1/orders/ORD-100 (Caused by "
            "ResponseError('too many 503 error responses'))",
            "rejecting /v1/orders/ORD-100: order store is in maintenance (read-only failover)",
        ],
        counts=[6, 30],
        problem="upstream-unavailable",
        facts={"status": "503", "endpoint": "partner.example:443/v1/orders/ORD-100"},
        says=["503", "Service Unavailable", "maintenance"],
        supported="unavailable",
    ),
    Case(
        "rate-limited-429",
        [
            '10.0.0.2 - - [23/Nov/2026:23:23:53 +0000] "GET /v1/orders/ORD-105 HTTP/1.1" 429 169 '
            '"-" "orders-sync/1.8.0 python-requests/2.34.2"',
            'limiting requests, excess: 3.850 by zone "partner_api", client: 10.0.0.2',
            "order ORD-114 sync failed after retries: Max "
            "retries exceeded with url: /v1/orders/ORD-114"
            " (Caused by ResponseError('too many 429 error responses')) Retry-After: 2",
        ],
        counts=[121, 121, 8],
        problem="rate-limited",
        facts={"rate_zone": "partner_api", "retry_after": "2", "status": "429"},
        says=["429", "Too Many Requests", "partner_api"],
        supported="rate limit",
    ),
    Case(
        "grpc-deadline-burst",
        [
            "inventory.v1.Inventory/Reserve failed for CO-1 after 502 ms: "
            "status=StatusCode.DEADLINE_EXCEEDED details='Deadline Exceeded'",
            "[grpc-worker_1] Reserve finished after 48 ms but the RPC was already cancelled "
            "(deadline had 3 ms left on entry)",
            "[grpc-worker_0] Reserve finished after 51 ms but the RPC was already cancelled "
            "(deadline had 0 ms left on entry)",
        ],
        counts=[95, 10, 10],
        problem="grpc-error",
        facts={"grpc_status": "DEADLINE_EXCEEDED", "server_workers": 2, "grpc_latency_ms": 502},
        says=["DEADLINE_EXCEEDED", "queued", "worker threads"],
        supported="saturated",
    ),
    Case(
        "grpc-unimplemented-version",
        [
            "inventory.v2.Inventory/Reserve failed for CO-9 after 3 ms: "
            "status=StatusCode.UNIMPLEMENTED details='Method not found!'",
        ],
        counts=[16],
        problem="grpc-error",
        facts={"grpc_api_version": "v2", "grpc_method": "inventory.v2.Inventory/Reserve"},
        says=["UNIMPLEMENTED", "version mismatch", "inventory.v2"],
        supported="API version mismatch",
    ),
    Case(
        "rabbitmq-exchange-missing",
        [
            "channel closed by broker: (404) NOT_FOUND - no exchange 'billing.events' in vhost "
            "'orders'",
            "operation basic.publish caused a channel exception not_found: no exchange "
            "'billing.events' in vhost 'orders'",
        ],
        problem="broker-channel-error",
        facts={"amqp_code": "404", "exchange": "billing.events", "vhost": "orders"},
        says=["NOT_FOUND", "billing.events", "never declared"],
        supported="missing topology",
    ),
    Case(
        "rabbitmq-inequivalent-arg",
        [
            'Received remote Channel.Close (406): "PRECONDITION_FAILED - inequivalent arg '
            "'x-message-ttl' for queue 'orders.created' in vhost 'orders'\"",
            "operation queue.declare caused a channel exception precondition_failed: inequivalent "
            "arg 'x-message-ttl' for queue 'orders.created' in vhost 'orders'",
        ],
        problem="broker-channel-error",
        facts={"amqp_code": "406", "broker_arg": "x-message-ttl", "queue": "orders.created"},
        says=["PRECONDITION_FAILED", "x-message-ttl", "redeclares"],
        supported="different arguments",
    ),
    Case(
        "rabbitmq-stale-password",
        [
            "PLAIN login refused: user 'orders-svc' - invalid credentials",
            "Successfully changed password for user 'orders-svc'",
        ],
        counts=[3, 1],
        problem="broker-access-refused",
        facts={"broker_user": "orders-svc"},
        says=["login refused", "rotated"],
        supported="stale credentials",
    ),
    Case(
        "oauth-refresh-reuse",
        [
            "OAuth2 token refresh failed: token endpoint returned HTTP 400: error=invalid_grant "
            "error_description='Refresh token has already been used'",
            "refresh token reuse detected: client=billing family=7e41 was already rotated; "
            "revoking family",
        ],
        counts=[1, 1],
        problem="oauth-token",
        facts={"oauth_error": "invalid_grant", "token_reuse": True},
        says=["invalid_grant", "already been used", "reuse"],
        supported="refresh token reuse",
        ruled_out="expired or was revoked",
    ),
    Case(
        "schema-missing-field",
        [
            'order ORD-100: partner response missing required field \'order_id\': {"id": "ORD-100",'
            ' "schema": "orders.v2"}',
        ],
        counts=[9],
        problem="missing-field",
        facts={"missing_field": "order_id", "schema_version": "orders.v2"},
        says=["order_id", "orders.v2", "breaking change"],
        supported="breaking change",
    ),
    Case(
        "html-instead-of-json",
        [
            "order ORD-100: cannot decode partner response "
            "as JSON (HTTP 200, Content-Type=text/html, "
            "205 bytes)\nrequests.exceptions.JSONDecodeError: Expecting value: line 1 column 1",
        ],
        counts=[6],
        problem="not-json",
        facts={"content_type": "text/html", "decode_status": "200"},
        says=["JSON", "text/html"],
        supported="HTML page",
    ),
    Case(
        "webhook-413",
        [
            "webhook delivery of batch 38c3 rejected: HTTP "
            "413 Request Entity Too Large (250 events, "
            "87055 bytes); not retryable",
            "client intended to send too large body: 104508 bytes",
        ],
        counts=[4, 4],
        problem="payload-too-large",
        facts={"max_body_bytes": 104508, "batch_events": 250},
        says=["413", "client_max_body_size"],
        supported="size limit",
    ),
    Case(
        "nats-slow-consumer",
        [
            '127.0.0.1:41142 - cid:4 - "price-feed-subscriber" - Slow Consumer Detected: '
            "WriteDeadline of 2s exceeded with 3 chunks of 131636 total bytes.",
            "NATS error callback: UnexpectedEOF: nats: unexpected EOF",
        ],
        problem="slow-consumer",
        facts={"write_deadline": "2s", "broker": "NATS"},
        says=["slow consumer", "write deadline", "event loop"],
        supported="cannot keep up",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_fit_prefers_integration_evidence() -> None:
    fixer = fixers()[D]
    assert fixer.can_handle(CASES[2].incident()) > 0.7
    assert fixer.can_handle(incident_from_lines(["Failed password for root from 1.2.3.4"])) < 0.3
