"""Context: ordinary lines that change what an incident means are attached to it (never as its
cause) — a login from the attacking address, a restart or deploy just before the errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from core_helpers import Rec, at, entry, incidents_of, kb_of

from aiops_copilot.context import MAX_LINES_EACH, MAX_TEMPLATES, attach_context, shipped_rules
from aiops_copilot.models import Domain, Incident, Level, Severity

WINDOW = timedelta(minutes=5)
KB = kb_of(
    [
        entry(
            "t-failed-password",
            domain=Domain.SECURITY,
            severity=Severity.MEDIUM,
            regex="Failed password",
        )
    ]
)
ATTACKER = "203.0.113.7"


def _brute_force() -> list[Rec]:
    """Twelve failed root logins from one address in two minutes (syslog: no level)."""
    return [
        Rec(
            f"Failed password for root from {ATTACKER} port {40000 + i} ssh2",
            Level.UNKNOWN,
            at=at(i / 6),
            service="sshd",
            source="auth.log",
        )
        for i in range(12)
    ]


def _sshd(message: str, minute: float) -> Rec:
    return Rec(message, Level.UNKNOWN, at=at(minute), service="sshd", source="auth.log")


def _attach(lines: list[Rec]) -> Incident:
    incidents, templates = incidents_of(lines, KB)
    attach_context(incidents, templates, window=WINDOW)
    (found,) = incidents
    return found


def _context(found: Incident) -> list[str]:
    return [r for r in found.grouped_because if r.startswith("context (")]


def test_login_from_the_attacking_address_is_attached() -> None:
    accepted = f"Accepted password for root from {ATTACKER} port 50000 ssh2"
    found = _attach([*_brute_force(), _sshd(accepted, 2.5)])
    assert [t.example for t in found.templates][-1] == accepted
    assert found.lines[-1].text == accepted
    assert _context(found) == [
        f"context (a login that succeeded): {accepted!r} names {ATTACKER}, root, "
        "as this incident's lines do"
    ]


def test_login_from_another_address_and_user_is_not_attached() -> None:
    other = "Accepted publickey for deploy from 198.51.100.20 port 50001 ssh2: ED25519 SHA256:x"
    found = _attach([*_brute_force(), _sshd(other, 2.5)])
    assert len(found.templates) == 1
    assert _context(found) == []


@pytest.mark.parametrize(
    ("minute", "attached"),
    [
        (1.0, True),  # during the attack
        (6.5, True),  # within the window after its last line
        (30.0, False),  # long after
    ],
)
def test_login_is_attached_only_during_or_soon_after(minute: float, attached: bool) -> None:
    accepted = f"Accepted password for root from {ATTACKER} port 50000 ssh2"
    found = _attach([*_brute_force(), _sshd(accepted, minute)])
    assert bool(_context(found)) is attached


def test_login_before_the_attack_is_not_attached() -> None:
    accepted = f"Accepted password for root from {ATTACKER} port 50000 ssh2"
    found = _attach([_sshd(accepted, -10), *_brute_force()])
    assert _context(found) == []


def test_session_opened_for_the_attacked_user_is_attached() -> None:
    session = "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)"
    found = _attach([*_brute_force(), _sshd(session, 2.5)])
    assert any("a session opened" in reason for reason in _context(found))


ERROR = "payment capture failed for order {n}"


def _errors(start: float = 10, source: str = "app.log", service: str | None = None) -> list[Rec]:
    return [
        Rec(ERROR.format(n=n), Level.ERROR, at=at(start + n / 2), source=source, service=service)
        for n in range(4)
    ]


def _info(message: str, minute: float, source: str = "app.log", service: str | None = None) -> Rec:
    return Rec(message, Level.INFO, at=at(minute), source=source, service=service)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Starting orders-api on 0.0.0.0:8080", "a restart or start-up just before the errors"),
        ("received SIGHUP, reloading configuration", "a configuration reload just before"),
        ("deploying release 2024.05.01-3", "a deploy or new release just before the errors"),
        ("statement: ALTER TABLE orders ADD COLUMN note text", "a schema change (DDL)"),
    ],
)
def test_change_just_before_the_first_error_is_attached(message: str, reason: str) -> None:
    found = _attach([_info(message, 9), *_errors()])
    (why,) = _context(found)
    assert why.startswith(f"context ({reason}")
    assert why.endswith("60 s before the first error, in the same place")
    assert found.templates[-1].example == message


@pytest.mark.parametrize(
    ("minute", "attached"),
    [
        (9.9, True),
        (5.0, True),  # exactly the window before
        (4.0, False),  # more than the window before
        (11.0, False),  # after the first error
    ],
)
def test_before_link_needs_the_window(minute: float, attached: bool) -> None:
    found = _attach([_info("Starting orders-api on 0.0.0.0:8080", minute), *_errors()])
    assert bool(_context(found)) is attached


@pytest.mark.parametrize(
    ("source", "service", "attached"),
    [
        ("app.log", None, True),
        ("other.log", None, False),
        ("other.log", "orders", True),
    ],
)
def test_before_link_needs_the_same_file_or_service(
    source: str, service: str | None, attached: bool
) -> None:
    lines = [_info("Starting orders-api on 0.0.0.0:8080", 9, source, service)]
    lines += _errors(service="orders")
    assert bool(_context(_attach(lines))) is attached


def test_no_times_no_before_link() -> None:
    lines = [Rec("Starting orders-api on 0.0.0.0:8080", Level.INFO)]
    lines += [Rec(ERROR.format(n=n), Level.ERROR) for n in range(3)]
    assert _context(_attach(lines)) == []


def test_caps_on_templates_and_lines() -> None:
    changes = [
        "Starting orders-api on 0.0.0.0:8080",
        "received SIGHUP, reloading configuration",
        "deploying release 2024.05.01-3",
        "statement: ALTER TABLE orders ADD COLUMN note text",
        "listening at http://0.0.0.0:9090 (metrics exporter)",
        "running database migration 0042_add_notes",
    ]
    lines = [_info(message, 9 + i / 100) for i in range(5) for message in changes]
    found = _attach([*lines, *_errors()])
    assert len(_context(found)) == MAX_TEMPLATES
    assert len(found.templates) == 1 + MAX_TEMPLATES
    error_lines = 4
    assert len(found.lines) == error_lines + MAX_TEMPLATES * MAX_LINES_EACH


def test_templates_already_in_an_incident_are_not_context() -> None:
    """A restart that is itself an error incident is not attached to itself or another."""
    lines = [Rec("worker restarting after crash", Level.ERROR, at=at(9)), *_errors()]
    incidents, templates = incidents_of(lines, KB)
    attach_context(incidents, templates, window=WINDOW)
    assert all(_context(i) == [] for i in incidents)


def test_no_rules_attach_nothing() -> None:
    incidents, templates = incidents_of(
        [_info("Starting orders-api on 0.0.0.0:8080", 9), *_errors()], KB
    )
    before = [(len(i.templates), len(i.lines)) for i in incidents]
    attach_context(incidents, templates, window=WINDOW, rules=())
    assert [(len(i.templates), len(i.lines)) for i in incidents] == before


def test_shipped_rules() -> None:
    rules = shipped_rules()
    assert rules is shipped_rules()
    assert {r.rule.link for r in rules} == {"entity", "before"}
    assert rules[0].rule.id == "login-accepted"
