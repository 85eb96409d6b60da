"""The security fixer, table-driven: brute force, success after failures, enumeration, probing,
forbidden areas, sudo escalation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, diagnose, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain, Severity

D = Domain.SECURITY

SSH_FAILURES = [
    "Failed password for invalid user admin from 203.0.113.7 port 45120 ssh2",
    "Failed password for root from 203.0.113.7 port 45122 ssh2",
    "Failed password for invalid user oracle from 203.0.113.7 port 45124 ssh2",
    "Invalid user admin from 203.0.113.7 port 45120",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
    "rhost=203.0.113.7  user=root",
]

CASES = [
    Case(
        "ssh-brute-force",
        SSH_FAILURES,
        counts=[60, 40, 26, 86, 40],
        problem="brute-force",
        facts={"attempts": 126, "source_ip": "203.0.113.7", "service_name": "SSH"},
        says=["brute force", "failed password", "203.0.113.7"],
        supported="brute-force",
        ruled_out="legitimate client",
    ),
    Case(
        "ssh-brute-force-then-accepted-password",
        [*SSH_FAILURES, "Accepted password for root from 203.0.113.7 port 50122 ssh2"],
        counts=[60, 40, 26, 86, 40, 1],
        problem="compromise",
        facts={"compromised": True, "accepted_user": "root", "accepted_ip": "203.0.113.7"},
        says=["accepted password", "compromised"],
        supported="successful brute force",
    ),
    Case(
        "publickey-login-of-another-user-is-not-a-compromise",
        [*SSH_FAILURES, "Accepted publickey for deploy from 198.51.100.4 port 50122 ssh2"],
        counts=[60, 40, 26, 86, 40, 1],
        problem="brute-force",
    ),
    Case(
        "ssh-user-enumeration",
        [
            "Invalid user admin from 203.0.113.9 port 47682",
            "Connection closed by invalid user admin 203.0.113.9 port 47682 [preauth]",
        ],
        counts=[62, 62],
        problem="user-enumeration",
        facts={"invalid_users": 62, "source_ip": "203.0.113.9"},
        says=["invalid user", "enumerat"],
        supported="enumerating",
    ),
    Case(
        "postgres-password-stuffing",
        [
            "password authentication failed for user "
            '"admin"\nDETAIL:  Role "admin" does not exist.',
            'password authentication failed for user "postgres"',
            'password authentication failed for user "backup"',
        ],
        counts=[120, 24, 12],
        formats=["postgresql"],
        problem="brute-force",
        facts={"service_name": "PostgreSQL", "attempts": 156, "invalid_users": 120},
        says=["password authentication failed", "brute force"],
        supported="credential-stuffing",
    ),
    Case(
        "sudo-escalation",
        [
            "bob : user NOT in sudoers ; PWD=/home/bob ; "
            "USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
            "alice : 3 incorrect password attempts ; PWD=/home/alice ; USER=root ; "
            "COMMAND=/usr/sbin/useradd -o -u 0 -g 0 sysbackup",
        ],
        problem="sudo-escalation",
        facts={"sudo_users": ["bob", "alice"]},
        says=["NOT in sudoers", "privilege escalation"],
        supported="privilege escalation",
        ruled_out="legitimate user",
    ),
    Case(
        "web-scanner",
        [
            "203.0.113.5 - - [23/Nov/2026:23:24:53 +0000] "
            '"GET /.env HTTP/1.1" 404 146 "-" "Mozilla"',
            "203.0.113.5 - - [23/Nov/2026:23:24:53 +0000] "
            '"GET /.git/config HTTP/1.1" 404 146 "-" "x"',
            "203.0.113.5 - - [23/Nov/2026:23:24:53 +0000] "
            '"GET /../../etc/passwd HTTP/1.1" 400 0 "-" "x"',
            "rejected non-numeric product id from 203.0.113.5: \"1' OR '1'='1\"",
        ],
        problem="web-probing",
        facts={"source_ip": "203.0.113.5"},
        says=["probing", "path traversal", "SQL injection"],
        supported="vulnerability scanner",
    ),
    Case(
        "nginx-admin-forbidden",
        [
            "2026/11/23 23:30:01 [error] 1#1: *5 access forbidden by rule, client: 203.0.113.8, "
            'server: portal, request: "GET /admin/users HTTP/1.1"',
            '203.0.113.8 - - [23/Nov/2026:23:30:01 +0000] "GET /admin/users HTTP/1.1" 403 153 "-" '
            '"python-requests/2.31.0"',
        ],
        counts=[40, 40],
        problem="forbidden-access",
        facts={"forbidden_area": "/admin/", "automated_client": True},
        says=["403", "forbidden by rule", "admin"],
        supported="unauthorized access attempts",
        ruled_out="legitimate internal client",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_success_after_failures_raises_the_severity_to_critical() -> None:
    diagnosis = diagnose(D, CASES[1].incident())
    assert diagnosis.severity == Severity.CRITICAL
    assert diagnosis.severity_reason and "root" in diagnosis.severity_reason
    assert any("passwd -l root" in c for c in diagnosis.commands)
    assert "Accepted password" in diagnosis.evidence[0].text


def test_rate_per_minute_uses_the_incident_span() -> None:
    incident = CASES[0].incident()
    incident.first_seen = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    incident.last_seen = datetime(2026, 11, 23, 23, 2, 6, tzinfo=UTC)
    diagnosis = diagnose(D, incident)
    assert diagnosis.facts["rate_per_min"] == 60.0
    assert "60 per minute" in diagnosis.root_cause


def test_fit_prefers_security_evidence() -> None:
    fixer = fixers()[D]
    assert fixer.can_handle(CASES[0].incident()) > 0.7
    assert fixer.can_handle(incident_from_lines(["FATAL: sorry, too many clients already"])) < 0.3
