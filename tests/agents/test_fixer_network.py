"""The network fixer, table-driven: refused, reset, timed out, DNS, TLS, load-balancer health."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain

D = Domain.NETWORK

CASES = [
    Case(
        "nginx-upstream-refused",
        [
            "2026/11/23 23:23:29 [error] 32206#32206: *106 "
            "connect() failed (111: Connection refused) "
            'while connecting to upstream, client: 10.1.1.1, server: shop.local, request: "GET '
            '/api/orders HTTP/1.1", upstream: '
            '"http://10.0.0.5:8080/api/orders", host: "shop.local"',
            "10.1.1.1 - - [23/Nov/2026:23:23:29 +0000] "
            '"GET /api/orders HTTP/1.1" 502 157 "-" "curl"',
        ],
        counts=[60, 60],
        formats=["nginx_error", "access_combined"],
        problem="connection-refused",
        facts={
            "peer": "10.0.0.5:8080",
            "port": "8080",
            "errno": "ECONNREFUSED",
            "phase": "connect",
        },
        says=["10.0.0.5:8080", "ECONNREFUSED", "60 × 502", "nothing was listening"],
        supported="nothing was listening",
    ),
    Case(
        "node-client-econnrefused-json",
        [
            '{"level":"error","msg":"warehouse request failed, giving up on batch","err":{"name":'
            '"TypeError","message":"fetch '
            'failed","cause":{"code":"ECONNREFUSED","syscall":"connect",'
            '"address":"127.0.0.1","port":16111}}}',
        ],
        counts=[18],
        formats=["json"],
        problem="connection-refused",
        facts={"peer": "127.0.0.1:16111", "upstream": "warehouse"},
        says=["warehouse", "127.0.0.1:16111"],
    ),
    Case(
        "upstream-reset",
        [
            "recv() failed (104: Connection reset by peer) while reading response header from "
            'upstream, client: 10.1.1.1, upstream: "http://10.0.0.7:9000/api/items"',
        ],
        counts=[36],
        formats=["nginx_error"],
        problem="connection-reset",
        facts={"errno": "ECONNRESET", "peer": "10.0.0.7:9000", "phase": "read"},
        says=["reset by peer", "10.0.0.7:9000"],
        supported="RST",
    ),
    Case(
        "slow-endpoint-read-timeout",
        [
            "upstream timed out (110: Connection timed out) while reading response header from "
            'upstream, request: "GET /api/report?m=1 HTTP/1.1", '
            'upstream: "http://10.0.0.8:80/api/report"',
            '10.1.1.1 - - [23/Nov/2026:23:24:30 +0000] "GET '
            '/api/report?m=1 HTTP/1.1" 504 160 "-" "x"',
        ],
        counts=[12, 12],
        formats=["nginx_error", "access_combined"],
        problem="upstream-timeout",
        facts={"slow_path": "/api/report", "errno": "ETIMEDOUT"},
        says=["proxy_read_timeout", "/api/report", "12 × 504"],
        supported="slower than the proxy",
        ruled_out="packets to the peer",
    ),
    Case(
        "connect-timeout-is-a-path-problem",
        [
            "upstream timed out (110: Connection timed out) while connecting to upstream, "
            'upstream: "http://10.9.9.9:443/"',
        ],
        counts=[8],
        formats=["nginx_error"],
        problem="upstream-timeout",
        says=["10.9.9.9:443"],
        supported="dropped",
        ruled_out="slower than the proxy",
    ),
    Case(
        "resolver-timeout",
        [
            "orders-api.svc.internal could not be resolved (110: Operation timed out), client: "
            '10.1.1.1, request: "GET /api/orders HTTP/1.1"',
            "wrong ident 41925 in DNS response for orders-api.svc.internal, expect 6576",
        ],
        counts=[25, 24],
        formats=["nginx_error"],
        problem="dns-failure",
        facts={"dns_name": "orders-api.svc.internal", "late_dns_answers": 24},
        says=["could not be resolved", "resolver", "timed out"],
        supported="stopped answering",
        ruled_out="does not exist in DNS",
    ),
    Case(
        "dns-nxdomain",
        ["getaddrinfo ENOTFOUND payments.internal.example"],
        counts=[9],
        problem="dns-failure",
        facts={"dns_name": "payments.internal.example"},
        supported="does not exist in DNS",
        ruled_out="stopped answering",
    ),
    Case(
        "tls-expired",
        [
            "rates fetch failed (attempt 1): <urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] "
            "certificate verify failed: certificate has "
            "expired (_ssl.c:1006)> https://rates.svc:8443/v1",
        ],
        counts=[30],
        problem="tls-failure",
        facts={"tls_reason": "certificate expired", "tls_peer": "rates.svc:8443"},
        says=["certificate has expired", "TLS", "rates.svc:8443"],
        supported="has expired",
    ),
    Case(
        "tls-unknown-ca",
        ["x509: certificate signed by unknown authority (https://api.partner.example/)"],
        counts=[4],
        problem="tls-failure",
        facts={"tls_reason": "unknown CA"},
        supported="does not trust",
    ),
    Case(
        "haproxy-all-servers-down",
        [
            'Server be_orders/app2 is DOWN, reason: Layer4 connection problem, info: "Connection '
            'refused", check duration: 0ms. 1 active and 0 backup servers left.',
            'Server be_orders/app1 is DOWN, reason: Layer4 connection problem, info: "Connection '
            'refused", check duration: 0ms. 0 active and 0 backup servers left.',
            "backend be_orders has no server available!",
        ],
        problem="backend-down",
        facts={"backend": "be_orders", "check_reason": "Layer4 connection problem"},
        says=["no server available", "DOWN", "nothing was listening"],
        supported="nothing was listening",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_fit_prefers_network_evidence() -> None:
    fixer = fixers()[D]
    refused = fixer.can_handle(CASES[0].incident())
    npe = fixer.can_handle(incident_from_lines(["java.lang.NullPointerException: x"]))
    assert refused > 0.7 > npe
