"""Analysis results built by hand for the renderer tests (imported by the test modules).

Each sample is the shape the pipeline produces, without running it: a diagnosed incident, one
the fixers left undiagnosed, one with nothing known at all, one full of hostile text, and an
empty result. The log lines are quoted from the PostgreSQL and nginx fixtures in tests/evals.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiops_copilot.models import (
    AnalysisResult,
    Classification,
    Diagnosis,
    Domain,
    Hypothesis,
    HypothesisStatus,
    Incident,
    LineRef,
    Severity,
    Signal,
    SignalKind,
    TemplateRef,
)

T0 = datetime(2026, 11, 23, 23, 24, 1, tzinfo=UTC)
PG_LINE = "2026-11-23 23:24:01.112 UTC [2044] shop@shopdb FATAL:  sorry, too many clients already"
NGINX_LINE = (
    "2026/11/23 23:24:02 [error] 311#311: *88 connect() failed (111: Connection refused) while "
    'connecting to upstream, client: 127.0.0.1, server: shop, request: "GET /api/orders HTTP/1.1"'
)
HOSTILE_LINE = (
    "[bold red]boom[/bold red] [/] <script>alert('x')</script> ```fence``` | a | b | "
    '*star* _under_ &amp; "quote" \x1b[31mansi\x1b[0m ünïcødé 日本'
)
TRACE = (
    'Exception in thread "main" java.lang.NullPointerException: customer is null\n'
    "\tat com.shop.Orders.total(Orders.java:42)\n"
    "\tat com.shop.Orders.handle(Orders.java:17)\n"
    "\tat com.shop.Server.run(Server.java:88)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:833)\n"
    "\tat java.base/java.lang.Thread.start(Thread.java:800)"
)


class Colour(enum.Enum):
    RED = "red"


def _minutes(start: datetime, counts: list[int]) -> dict[int, int]:
    first = int(start.timestamp()) // 60
    return {first + i: n for i, n in enumerate(counts) if n}


def _classification(top: Domain, score: float, reasons: list[str]) -> Classification:
    scores = dict.fromkeys(Domain, 0.0)
    scores[top] = score
    scores[Domain.NETWORK if top is not Domain.NETWORK else Domain.APPLICATION] = 0.31
    return Classification(scores=scores, reasons={top: reasons})


def database_incident() -> Incident:
    """Diagnosed: PostgreSQL out of connection slots, the cause of the nginx 502s."""
    evidence = [
        LineRef("logs/postgresql.log", 120 + i, 120 + i, PG_LINE, T0 + timedelta(seconds=i))
        for i in range(12)
    ]
    return Incident(
        id="inc-db-1",
        fingerprint="fp:postgresql-too-many-clients:shopdb",
        title="sorry, too many clients already",
        severity=Severity.CRITICAL,
        score=0.93,
        signals=[
            Signal(
                SignalKind.SIGNATURE,
                "t-pg-1",
                0.95,
                "known error postgresql-too-many-clients",
                Severity.CRITICAL,
                entry_id="postgresql-too-many-clients",
                count=412,
                first_seen=T0,
                last_seen=T0 + timedelta(minutes=9),
            ),
            Signal(SignalKind.BURST, "t-pg-1", 0.8, "rate x40 vs its history", Severity.HIGH),
        ],
        templates=[
            TemplateRef("t-pg-1", "<*> FATAL: sorry, too many clients already", 412, PG_LINE)
        ],
        count=412,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=9),
        hosts=["db-1"],
        services=["postgresql", "order-report-svc"],
        sources=["logs/postgresql.log", "logs/order-report-svc.log"],
        formats=["postgresql"],
        lines=evidence,
        entities={"db=shopdb": 412},
        entry_ids=["postgresql-too-many-clients"],
        grouped_because=["same signature postgresql-too-many-clients", "same database shopdb"],
        minutes=_minutes(T0, [3, 40, 120, 0, 0, 88, 60, 50, 30, 21]),
        symptoms=["inc-net-2"],
        classification=_classification(
            Domain.DATABASE, 0.88, ["signature postgresql-too-many-clients", "software postgresql"]
        ),
        diagnosis=Diagnosis(
            agent="database",
            title="PostgreSQL ran out of connection slots",
            root_cause=(
                "order-report-svc opens a connection per request and never closes it; "
                "max_connections=20 is reached."
            ),
            confidence=0.86,
            hypotheses=[
                Hypothesis(
                    "Connection leak in order-report-svc",
                    HypothesisStatus.SUPPORTED,
                    "open_conns grows by one per request since deploy 1.4.3",
                    0.9,
                ),
                Hypothesis(
                    "max_connections too low for the load",
                    HypothesisStatus.POSSIBLE,
                    "load did not change",
                    0.4,
                ),
                Hypothesis(
                    "Long-running queries hold slots",
                    HypothesisStatus.RULED_OUT,
                    "sessions last 0.01 s",
                    0.1,
                ),
                Hypothesis("Fourth idea", HypothesisStatus.POSSIBLE, "shown in full only", 0.05),
            ],
            remediation=["Roll back 1.4.3", "Put a pool (PgBouncer) in front of PostgreSQL"],
            commands=[
                "psql -c 'SELECT count(*), application_name FROM pg_stat_activity GROUP BY 2'"
            ],
            references=["https://www.postgresql.org/docs/current/runtime-config-connection.html"],
            evidence=evidence,
            facts={
                "engine": "postgresql",
                "max_connections": 20,
                "seen_at": T0,
                "users": {"shop"},
                "colour": Colour.RED,
                "ratio": float("nan"),
                "path": Path("/var/lib/postgresql"),
            },
            entry_ids=["postgresql-too-many-clients", "postgresql-connection-leak"],
            second_opinion="network: the 502s are a symptom, not a second cause",
        ),
    )


def network_incident() -> Incident:
    """Classified but undiagnosed: the nginx side, linked to the database cause."""
    line = LineRef("logs/nginx-error.log", 7, 7, NGINX_LINE, T0 + timedelta(seconds=1))
    return Incident(
        id="inc-net-2",
        fingerprint="fp:nginx-upstream-refused",
        title="connect() failed (111: Connection refused) while connecting to upstream",
        severity=Severity.HIGH,
        score=0.7,
        signals=[
            Signal(
                SignalKind.SEVERITY,
                "t-ngx-1",
                0.7,
                "level ERROR",
                Severity.HIGH,
                count=230,
            )
        ],
        templates=[TemplateRef("t-ngx-1", "connect() failed <*>", 230, NGINX_LINE)],
        count=230,
        first_seen=T0 + timedelta(seconds=1),
        last_seen=T0 + timedelta(minutes=8),
        services=["nginx"],
        sources=["logs/nginx-error.log"],
        lines=[line],
        grouped_because=["same template t-ngx-1"],
        minutes=_minutes(T0, [10, 50, 100, 70]),
        caused_by="inc-db-1",
        classification=_classification(
            Domain.NETWORK, 0.64, ["keyword connection refused", "software nginx"]
        ),
    )


def bare_incident() -> Incident:
    """Nothing known: no classification, no diagnosis, no timestamps."""
    return Incident(
        id="inc-3",
        fingerprint="fp:3",
        title="something odd",
        severity=Severity.LOW,
        score=0.2,
        signals=[Signal(SignalKind.NOVELTY, "t-3", 0.3, "new template", Severity.LOW, count=1)],
        templates=[],
        count=1,
        first_seen=None,
        last_seen=None,
        lines=[LineRef("stdin", 1, 1, "something odd happened")],
    )


def hostile_incident() -> Incident:
    """Every string an attacker or an unlucky log line could put in the report."""
    refs = [
        LineRef("logs/<app>.log", 3, 3, HOSTILE_LINE),
        LineRef("logs/app.log", 10, 15, TRACE),
    ]
    return Incident(
        id='inc-"4"<x>',
        fingerprint="fp:`tick`",
        title="<b>[bold]title[/bold]</b> | *x*",
        severity=Severity.MEDIUM,
        score=0.5,
        signals=[
            Signal(
                SignalKind.SEVERITY, "t|4", 0.5, "reason <i>[red]x[/red]</i> | y", Severity.MEDIUM
            )
        ],
        templates=[],
        count=2,
        first_seen=T0,
        last_seen=T0,
        hosts=["host<1>"],
        services=["svc[bold]"],
        sources=["logs/<app>.log"],
        lines=refs,
        grouped_because=["because <script>x</script> [bold]"],
        minutes=_minutes(T0, [1, 1]),
        classification=Classification(
            scores={Domain.APPLICATION: 0.5}, reasons={Domain.APPLICATION: ["<img src=x> [b]"]}
        ),
        diagnosis=Diagnosis(
            agent="application",
            title="<script>alert('title')</script> [bold]T[/bold]",
            root_cause="root <script>cause</script> [link=http://x]y[/link] `code` | pipe",
            confidence=1.7,  # a fixer overshooting: the contract clamps to 1
            hypotheses=[Hypothesis("<h1>cause</h1>", HypothesisStatus.POSSIBLE, "[dim]b[/dim]")],
            remediation=["<b>step</b> [bold]one[/bold]", "**two** | x"],
            commands=["echo '<script>' ```"],
            references=["javascript:alert(1)", 'https://example.org/"onmouseover="x'],
            evidence=refs,
            facts={(1, 2): "tuple key"},
        ),
    )


def summary(detection: bool = True) -> dict[str, Any]:
    """A summary shaped like ``report.summary.build()`` plus the orchestrator's detection."""
    data: dict[str, Any] = {
        "sources": [
            {
                "source": "logs/postgresql.log",
                "format": "postgresql",
                "confidence": 0.99,
                "lines": 1800,
                "bytes": 240000,
                "records": 1790,
                "invalid_utf8_lines": 0,
                "cut_lines": 0,
                "truncated": False,
                "error": None,
            },
            {
                "source": "logs/<evil>|.log",
                "format": "nginx_error",
                "confidence": 0.95,
                "lines": 600,
                "bytes": 90000,
                "records": 600,
                "invalid_utf8_lines": 2,
                "cut_lines": 0,
                "truncated": True,
                "error": "truncated gzip [bold]stream[/bold]",
            },
        ],
        "skipped": [{"target": "logs/core.bin", "reason": "binary file"}],
        "totals": {
            "sources": 2,
            "skipped": 1,
            "lines": 2400,
            "records": 2390,
            "invalid_utf8_lines": 2,
            "cut_lines": 0,
            "templates": 57,
        },
        "levels": {"INFO": 2000, "ERROR": 390},
        "top_templates": [
            {
                "template_id": "t-pg-1",
                "count": 412,
                "first_seen": T0.isoformat(),
                "last_seen": None,
                "template": "<*> FATAL: sorry, too many clients already",
                "example": PG_LINE,
            }
        ],
        "signatures": [
            {
                "id": "postgresql-too-many-clients",
                "domain": "database",
                "software": "postgresql",
                "severity": "critical",
                "title": "Too many clients",
                "count": 412,
                "template_ids": ["t-pg-1"],
            }
        ],
    }
    if detection:
        data["detection"] = {
            "signals": {"severity": 3, "signature": 1, "burst": 1},
            "noise_suppressed": 1520,
        }
    return data


def full_result() -> AnalysisResult:
    return AnalysisResult(
        incidents=[database_incident(), network_incident(), bare_incident()],
        summary=summary(),
        observations=[Signal(SignalKind.NOVELTY, "t-9", 0.1, "rare", Severity.INFO)],
    )


def hostile_result() -> AnalysisResult:
    return AnalysisResult(incidents=[hostile_incident()], summary=summary())


def empty_result() -> AnalysisResult:
    return AnalysisResult(incidents=[], summary=summary(detection=False))


#: Every sample by name, for tests that must hold whatever the result looks like.
SAMPLES = {
    "full": full_result,
    "hostile": hostile_result,
    "empty": empty_result,
    "bare, no summary": lambda: AnalysisResult([bare_incident()], {}),
    "empty, no summary": lambda: AnalysisResult([], {}),
}
