"""Noise rules: routine lines (probes, scrapes, favicon 404s, checkpoints, DEBUG chatter) are
named as routine with a reason, and anything that looks like news is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_helpers import Rec, stats_of

from aiops_copilot.detect.noise import NOISE_FILE, load_rules, noise_reason, shipped_rules
from aiops_copilot.models import Level

PROBE = "health probes"
KUBE = "Kubernetes liveness/readiness probes"
METRICS = "Prometheus scraping /metrics"
FAVICON = "browsers asking for /favicon.ico"
NGINX_FAVICON = "nginx error log noting the missing favicon"
KEEPALIVE = "closing an idle keep-alive connection"
CHECKPOINT = "PostgreSQL checkpoints are routine"
ADMIN = "operator shut it down"
DEBUG_ONLY = "DEBUG/TRACE level only"


def _access(path: str, status: int, agent: str = "curl/8.5.0", method: str = "GET") -> str:
    return (
        f'10.0.0.5 - - [01/May/2024:12:00:00 +0000] "{method} {path} HTTP/1.1" {status} 17 '
        f'"-" "{agent}"'
    )


CASES: list[tuple[str, str, Level, str | None]] = [
    ("health 200", _access("/healthz", 200), Level.INFO, PROBE),
    ("health 204 nested", _access("/api/v1/ready", 204), Level.INFO, PROBE),
    ("health HEAD", _access("/livez", 200, method="HEAD"), Level.INFO, PROBE),
    ("health with query", _access("/health?full=1", 200), Level.INFO, PROBE),
    ("health 503 is news", _access("/healthz", 503), Level.INFO, None),
    ("health 500 is news", _access("/status", 500), Level.INFO, None),
    ("kube-probe", _access("/startup", 200, agent="kube-probe/1.29"), Level.INFO, KUBE),
    ("kube-probe 503", _access("/startup", 503, agent="kube-probe/1.29"), Level.INFO, None),
    ("metrics scrape", _access("/metrics", 200, agent="Prometheus/2.51.0"), Level.INFO, METRICS),
    ("metrics 500", _access("/metrics", 500, agent="Prometheus/2.51.0"), Level.INFO, None),
    ("favicon 404", _access("/favicon.ico", 404), Level.WARNING, FAVICON),
    ("robots 404", _access("/robots.txt", 404), Level.WARNING, FAVICON),
    ("touch icon 404", _access("/apple-touch-icon-120x120.png", 404), Level.WARNING, FAVICON),
    ("favicon 500", _access("/favicon.ico", 500), Level.INFO, None),
    ("page 404", _access("/orders/42", 404), Level.WARNING, None),
    (
        "nginx favicon",
        'open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), '
        'client: 10.0.0.7, server: shop, request: "GET /favicon.ico HTTP/1.1"',
        Level.ERROR,
        NGINX_FAVICON,
    ),
    (
        "nginx other file",
        'open() "/usr/share/nginx/html/index.html" failed (13: Permission denied), '
        "client: 10.0.0.7",
        Level.ERROR,
        None,
    ),
    ("keepalive", "client 10.0.0.7 closed keepalive connection", Level.INFO, KEEPALIVE),
    ("pg checkpoint start", "checkpoint starting: time", Level.INFO, CHECKPOINT),
    (
        "pg checkpoint complete",
        "checkpoint complete: wrote 44 buffers (0.3%); 0 WAL file(s) added",
        Level.INFO,
        CHECKPOINT,
    ),
    ("pg checkpoint failure", "could not complete checkpoint", Level.ERROR, None),
    (
        "pg admin terminate",
        "terminating connection due to administrator command",
        Level.CRITICAL,
        ADMIN,
    ),
    (
        "pg recovery conflict",
        "terminating connection due to conflict with recovery",
        Level.CRITICAL,
        None,
    ),
    ("debug chatter", "cache miss for key user:42, loading", Level.DEBUG, DEBUG_ONLY),
    ("trace chatter", "entering handler checkout", Level.TRACE, DEBUG_ONLY),
    ("ordinary error", "payment capture failed for order 42", Level.ERROR, None),
]


@pytest.mark.parametrize(
    ("message", "level", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_noise_table(message: str, level: Level, expected: str | None) -> None:
    reason = noise_reason(stats_of([Rec(message, level)]), shipped_rules())
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason


@pytest.mark.parametrize(
    ("levels", "noise"),
    [
        ((Level.DEBUG, Level.DEBUG), True),
        ((Level.DEBUG, Level.TRACE), True),
        ((Level.DEBUG, Level.INFO), False),
        ((Level.DEBUG, Level.ERROR), False),
        ((Level.UNKNOWN,), False),
        ((Level.UNKNOWN, Level.DEBUG), False),
    ],
)
def test_debug_only_means_every_record(levels: tuple[Level, ...], noise: bool) -> None:
    stats = stats_of([Rec("cache miss for key user:42, loading", lvl) for lvl in levels])
    assert (noise_reason(stats, shipped_rules()) == DEBUG_ONLY) is noise


def test_no_rules_leaves_only_the_debug_rule() -> None:
    health = stats_of([Rec(_access("/healthz", 200), Level.INFO)])
    assert noise_reason(health, ()) is None
    debug = stats_of([Rec("entering handler checkout", Level.DEBUG)])
    assert noise_reason(debug, ()) == DEBUG_ONLY


def test_shipped_rules_are_loaded_once_and_in_file_order() -> None:
    rules = shipped_rules()
    assert rules is shipped_rules()
    assert [r.rule.id for r in rules] == [r.rule.id for r in load_rules()]
    assert rules[0].rule.id == "health-check-probe"
    assert all(r.rule.reason for r in rules)


def test_extra_rules_file_adds_rules_after_the_shipped_ones(tmp_path: Path) -> None:
    extra = tmp_path / "team-noise.yaml"
    extra.write_text(
        "- id: synthetic-canary\n"
        "  reason: our synthetic canary\n"
        "  regex: 'canary-check id=\\d+'\n"
        "  unless: 'FAILED'\n",
        encoding="utf-8",
    )
    rules = load_rules([extra])
    assert rules[-1].rule.id == "synthetic-canary"
    assert len(rules) == len(shipped_rules()) + 1
    ok = stats_of([Rec("canary-check id=7 passed", Level.INFO)])
    bad = stats_of([Rec("canary-check id=7 FAILED", Level.INFO)])
    assert noise_reason(ok, rules) == "our synthetic canary"
    assert noise_reason(bad, rules) is None


def test_empty_extra_file_adds_nothing(tmp_path: Path) -> None:
    extra = tmp_path / "empty.yaml"
    extra.write_text("# nothing yet\n", encoding="utf-8")
    assert len(load_rules([extra])) == len(shipped_rules())


BROKEN = [
    ("not yaml", "- id: x\n  reason: [unclosed\n"),
    ("missing regex", "- id: x\n  reason: y\n"),
    ("unknown key", "- id: x\n  reason: y\n  regex: z\n  when: always\n"),
    ("bad regex", "- id: x\n  reason: y\n  regex: '(unclosed'\n"),
    ("bad unless", "- id: x\n  reason: y\n  regex: ok\n  unless: '[z'\n"),
    ("a mapping", "id: x\nreason: y\nregex: z\n"),
    ("a number", "42\n"),
]


@pytest.mark.parametrize("text", [b[1] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_malformed_extra_rules_file_is_a_one_line_value_error(tmp_path: Path, text: str) -> None:
    extra = tmp_path / "broken.yaml"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_rules([extra])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"noise rules {extra}: ")


def test_missing_extra_rules_file_is_a_one_line_value_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ValueError, match=r"^noise rules .*nope\.yaml: ") as caught:
        load_rules([missing])
    assert "\n" not in str(caught.value)


def test_shipped_file_is_the_one_in_the_package() -> None:
    assert NOISE_FILE.name == "noise.yaml"
    assert NOISE_FILE.is_file()
