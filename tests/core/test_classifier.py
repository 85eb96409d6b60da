"""The classifier: six domain scores summing to one, every contribution listed as a reason,
signatures weighing more than keywords, and status-code keywords that ignore timestamps."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_helpers import entry, incident, kb_of, shipped_kb
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.agents.classifier import WEIGHTS_FILE, classify, load_weights, shipped_model
from aiops_copilot.models import Domain, Severity

KB = kb_of(
    [
        entry("t-pool", domain=Domain.DATABASE, severity=Severity.HIGH, regex="pool exhausted"),
        entry("t-disk", domain=Domain.INFRASTRUCTURE, severity=Severity.MEDIUM, regex="ENOSPC"),
        entry("t-tls", domain=Domain.NETWORK, severity=Severity.LOW, regex="handshake"),
    ]
)


def _total(scores: dict[Domain, float]) -> float:
    return sum(scores.values())


def test_scores_cover_every_domain_and_sum_to_one() -> None:
    result = classify(incident(["connection refused by 10.0.0.5:5432 (postgres)"]), KB)
    assert set(result.scores) == set(Domain)
    assert _total(result.scores) == pytest.approx(1.0, abs=0.01)
    assert result.top is Domain.NETWORK
    assert result.scores[Domain.DATABASE] > 0


def test_no_evidence_is_application_by_default_and_says_so() -> None:
    result = classify(incident(["something odd happened in the night"]), KB)
    assert result.scores[Domain.APPLICATION] == 1.0
    assert result.top is Domain.APPLICATION
    assert result.reasons[Domain.APPLICATION] == [
        "no domain-specific evidence: application by default"
    ]
    assert all(not result.reasons[d] for d in Domain if d is not Domain.APPLICATION)


def test_signature_weight_beats_keywords() -> None:
    """Network words everywhere, but the knowledge base knows it is a database problem."""
    lines = [
        "upstream connection refused, connection reset by peer, timed out: pool exhausted",
    ]
    result = classify(incident(lines, entry_ids=["t-pool"]), KB)
    assert result.top is Domain.DATABASE
    assert result.reasons[Domain.DATABASE][0] == "signature t-pool (testware, high) (+5)"


def test_first_signature_counts_fully_the_next_half() -> None:
    result = classify(incident(["x"], entry_ids=["t-disk", "t-pool"]), KB)
    assert "signature t-disk (testware, medium) (+4)" in result.reasons[Domain.INFRASTRUCTURE]
    assert "signature t-pool (testware, high) (+2.5)" in result.reasons[Domain.DATABASE]
    assert result.top is Domain.INFRASTRUCTURE


def test_unknown_entry_ids_are_ignored() -> None:
    result = classify(incident(["something odd happened"], entry_ids=["not-in-kb"]), KB)
    assert result.top is Domain.APPLICATION


def test_reasons_list_every_contribution() -> None:
    found = incident(
        ["FATAL: sorry, too many clients already", "handshake with replica failed"],
        entry_ids=["t-tls"],
        formats=["postgresql"],
        services=["postgres[812]"],
    )
    result = classify(found, KB)
    assert result.reasons[Domain.NETWORK][0] == "signature t-tls (testware, low) (+3)"
    assert "keyword 'handshake' (+1.2)" in result.reasons[Domain.NETWORK]
    database = result.reasons[Domain.DATABASE]
    assert "keyword 'too many clients' (+1.5)" in database
    assert "log format postgresql (+1.5)" in database
    assert "service postgres (+1)" in database
    # Every reason's weight is in the raw score: the shares follow from the listed weights.
    raw = {
        d: sum(float(r.rsplit("(+", 1)[1].rstrip(")")) for r in result.reasons[d]) for d in Domain
    }
    total = sum(raw.values())
    for domain in Domain:
        assert result.scores[domain] == pytest.approx(raw[domain] / total, abs=0.001)


def test_each_keyword_rule_counts_once() -> None:
    result = classify(incident(["deadlock detected"] * 5), KB)
    assert result.reasons[Domain.DATABASE] == ["keyword 'deadlock' (+1.5)"]


@pytest.mark.parametrize(
    "line",
    [
        "2024-05-01 19:03:35,413 ERROR worker: job crashed",
        "2024-05-01 19:03:35,429 ERROR worker: job crashed",
        "2024-05-01 19:03:35,401 ERROR worker: job crashed",
        "2024-05-01 19:03:35,403 ERROR worker: job crashed",
        "2024-05-01 19:03:35,502 ERROR worker: job crashed",
        "2024-05-01 19:03:35.504 ERROR worker: job crashed",
        "2024-05-01T19:03:35.503Z ERROR worker: job crashed",
        "job crashed after 0.429 s",
    ],
)
def test_status_code_keywords_do_not_fire_on_timestamps(line: str) -> None:
    result = classify(incident([line]), KB)
    assert result.top is Domain.APPLICATION
    assert result.reasons[Domain.APPLICATION] == [
        "no domain-specific evidence: application by default"
    ]


@pytest.mark.parametrize(
    "line",
    [
        "api-1  | 2024-05-01 19:03:35,413 ERROR payment worker crashed",
        "GET /api/v1/orders failed at 19:03:35.502",
    ],
)
def test_api_status_keyword_does_not_fire_on_timestamps(line: str) -> None:
    result = classify(incident([line]), KB)
    assert result.reasons[Domain.INTEGRATION] == []


@pytest.mark.parametrize(
    ("code", "domain"),
    [
        ("413", Domain.INTEGRATION),
        ("429", Domain.INTEGRATION),
        ("502", Domain.NETWORK),
        ("403", Domain.SECURITY),
    ],
)
def test_status_codes_still_count_as_statuses(code: str, domain: Domain) -> None:
    line = f'10.0.0.5 - - [01/May/2024:19:03:35 +0000] "POST /hooks HTTP/1.1" {code} 0 "-" "x"'
    result = classify(incident([line]), KB)
    assert f"keyword '{code}'" in " ".join(result.reasons[domain])


ROUTING = [
    (
        "postgres too many clients",
        ["2024-05-01 12:00:01.123 UTC [3012] FATAL:  sorry, too many clients already"],
        ["postgresql"],
        [],
        Domain.DATABASE,
    ),
    (
        "mysql deadlock",
        ["Deadlock found when trying to get lock; try restarting transaction"],
        ["mysql"],
        [],
        Domain.DATABASE,
    ),
    (
        "nginx upstream refused",
        [
            "connect() failed (111: Connection refused) while connecting to upstream, "
            'client: 10.0.0.7, upstream: "http://127.0.0.1:8081/api"'
        ],
        ["nginx_error"],
        [],
        Domain.NETWORK,
    ),
    (
        "dns failure",
        ["getaddrinfo ENOTFOUND inventory.internal"],
        [],
        [],
        Domain.NETWORK,
    ),
    (
        "python traceback",
        [
            'Traceback (most recent call last):\n  File "app.py", line 9, in handler\n'
            "KeyError: 'sku'"
        ],
        ["python_logging"],
        [],
        Domain.APPLICATION,
    ),
    (
        "java npe",
        [
            'Exception in thread "main" java.lang.NullPointerException\n'
            "\tat com.shop.Orders.total(Orders.java:42)"
        ],
        ["log4j"],
        [],
        Domain.APPLICATION,
    ),
    (
        "ssh brute force",
        ["Failed password for root from 203.0.113.7 port 4022 ssh2"],
        ["syslog_rfc3164"],
        ["sshd"],
        Domain.SECURITY,
    ),
    (
        "disk full",
        ["upload 7f3a: write /data/uploads/tmp-7f3a: No space left on device"],
        [],
        [],
        Domain.INFRASTRUCTURE,
    ),
    (
        "oom killer",
        ["kernel: Out of memory: Killed process 4242 (java) total-vm:8123456kB"],
        ["syslog_rfc3164"],
        ["kernel"],
        Domain.INFRASTRUCTURE,
    ),
    (
        "rate limited",
        ["partner API answered 429 Too Many Requests, Retry-After: 30"],
        [],
        [],
        Domain.INTEGRATION,
    ),
    (
        "grpc deadline",
        ["rpc error: code = DeadlineExceeded desc = context deadline exceeded (grpc)"],
        [],
        [],
        Domain.INTEGRATION,
    ),
]


@pytest.mark.parametrize(
    ("lines", "formats", "services", "expected"),
    [r[1:] for r in ROUTING],
    ids=[r[0] for r in ROUTING],
)
def test_incidents_route_to_the_expected_domain(
    lines: list[str], formats: list[str], services: list[str], expected: Domain
) -> None:
    """Keywords, formats and services only (no signatures): the classifier's own evidence."""
    result = classify(incident(lines, formats=formats, services=services), kb_of([]))
    assert result.top is expected, result.reasons


def test_shipped_signatures_route_real_lines() -> None:
    kb = shipped_kb()
    found = incident(["sorry, too many clients already"], entry_ids=["postgresql-too-many-clients"])
    assert classify(found, kb).top is Domain.DATABASE


def test_custom_weights_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text(
        "keywords:\n"
        "  security: [{pattern: 'tripwire', weight: 2}]\n"
        "  network: [{pattern: 'packet', weight: 1}]\n"
        "formats: {gizmo: {infrastructure: 1}}\n"
        "services: {alarmd: {security: 1}}\n"
        "signature_weight: {critical: 5, high: 5, medium: 4, low: 3, info: 1}\n",
        encoding="utf-8",
    )
    model = load_weights(path)
    found = incident(["tripwire packet"], formats=["gizmo"], services=["alarmd@main"])
    result = classify(found, kb_of([]), model)
    assert result.scores == {
        Domain.SECURITY: 0.6,
        Domain.NETWORK: 0.2,
        Domain.INFRASTRUCTURE: 0.2,
        Domain.DATABASE: 0.0,
        Domain.APPLICATION: 0.0,
        Domain.INTEGRATION: 0.0,
    }
    assert result.reasons[Domain.SECURITY] == ["keyword 'tripwire' (+2)", "service alarmd (+1)"]


@pytest.mark.parametrize(
    "text",
    [
        "keywords: {database: [{pattern: '(unclosed', weight: 1}]}\nsignature_weight: {}\n",
        "keywords: {database: [{pattern: 'x', weight: 0}]}\nsignature_weight: {}\n",
        "keywords: {plumbing: [{pattern: 'x', weight: 1}]}\nsignature_weight: {}\n",
        "keywords: {}\n",
        "keywords: [unclosed\n",
    ],
    ids=["bad regex", "zero weight", "unknown domain", "no signature weights", "not yaml"],
)
def test_malformed_weights_file_is_a_one_line_value_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_weights(path)
    assert str(caught.value).startswith(f"classifier weights {path}: ")
    assert "\n" not in str(caught.value)


def test_shipped_model_is_loaded_once_from_the_package() -> None:
    assert shipped_model() is shipped_model()
    assert WEIGHTS_FILE.is_file()
    assert set(shipped_model().weights.keywords) == set(Domain)


WORDS = st.sampled_from(
    [
        "deadlock",
        "timed out",
        "429",
        "Failed password",
        "No space left on device",
        "Traceback (most recent call last)",
        "upstream",
        "kafka",
        "hello",
        "order",
        "42",
        "19:03:35,413",
        "ECONNREFUSED",
        "certificate",
        "sshd",
        "OOMKilled",
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(WORDS, max_size=8),
    st.lists(st.sampled_from(["t-pool", "t-disk", "t-tls", "unknown"]), max_size=3),
)
def test_scores_are_a_distribution_backed_by_reasons(words: list[str], ids: list[str]) -> None:
    result = classify(incident([" ".join(words)], entry_ids=ids), KB)
    assert _total(result.scores) == pytest.approx(1.0, abs=0.01)
    for domain, score in result.scores.items():
        assert 0.0 <= score <= 1.0
        assert (score > 0) == bool(result.reasons[domain])
    assert result.top is result.ranked[0][0]


@pytest.mark.parametrize(
    ("entities", "security_wins"),
    [
        # 45 rejections from one address for six user names: a probe, whoever logged it.
        ({"ip:192.0.2.2": 45, **{f"user:{u}": 9 for u in "abcdef"}}, True),
        # One service account failing again and again: stale credentials, not an attack.
        ({"ip:10.1.2.3": 45, "user:billing": 45}, False),
        # Several users but a handful of attempts: not enough to call it an attack.
        ({"ip:192.0.2.2": 4, "user:a": 1, "user:b": 1, "user:c": 2}, False),
    ],
)
def test_attack_pattern_outweighs_the_software_that_logged_it(
    entities: dict[str, int], security_wins: bool
) -> None:
    line = 'FATAL:  no pg_hba.conf entry for host "192.0.2.2", user "admin", database "shop"'
    found = classify(
        incident([line], entry_ids=["postgresql-no-pg-hba-entry"], formats=["postgresql"],
                 entities=entities),
        shipped_kb(),
    )  # fmt: skip
    assert (found.top is Domain.SECURITY) is security_wins
    reasons = " ".join(found.reasons[Domain.SECURITY])
    assert ("attack pattern" in reasons) is security_wins
