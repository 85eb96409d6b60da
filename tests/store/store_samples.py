"""Synthetic incidents of realistic size for the store's tests and its speed benchmark.

Each incident looks like one the pipeline writes: a diagnosis with hypotheses, remediation,
commands and references, three signals, two templates, 20 cited lines of which 10 are the
evidence. Identity comes from ``key``: the same key gives the same fingerprint and id, which
is what history keys on.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
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

T0 = datetime(2026, 11, 2, 6, 0, 0, tzinfo=UTC)
PG_LINE = (
    "{when} UTC [{pid}] app@shopdb FATAL:  sorry, too many clients already "
    "(pool=orders-{key}, max_connections=100, active=100, waiting=17)"
)


def fingerprint(key: str) -> str:
    return f"sig:postgresql-too-many-clients|svc:orders-{key}"


def incident_id(key: str) -> str:
    return "INC-" + hashlib.sha1(fingerprint(key).encode()).hexdigest()[:10]


def make_incident(
    key: str,
    *,
    start: datetime | None = T0,
    domain: Domain = Domain.DATABASE,
    severity: Severity = Severity.HIGH,
) -> Incident:
    """One incident; ``start=None`` gives one whose logs had no timestamps."""
    lines = []
    for i in range(20):
        when = start + timedelta(seconds=7 * i) if start is not None else None
        text = PG_LINE.format(
            when=(when or T0).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], pid=4000 + i, key=key
        )
        lines.append(LineRef(f"/var/log/postgresql/orders-{key}.log", 100 + i, 100 + i, text, when))
    last = lines[-1].timestamp
    templates = [
        TemplateRef(
            f"t-{key}-{n}",
            "<*> UTC [<NUM>] app@shopdb FATAL: sorry, too many clients already <*>",
            10,
            lines[n].text,
        )
        for n in range(2)
    ]
    signals = [
        Signal(kind, templates[0].template_id, score, reason, severity, entry, 20, start, last)
        for kind, score, reason, entry in (
            (SignalKind.SIGNATURE, 0.95, "known error postgresql-too-many-clients",
             "postgresql-too-many-clients"),
            (SignalKind.SEVERITY, 0.8, "FATAL level on 20 records", None),
            (SignalKind.BURST, 0.6, "rate 20/min against a baseline of 0.1/min", None),
        )
    ]  # fmt: skip
    hypotheses = [
        Hypothesis(
            f"Cause {n}: connection leak in orders-{key} after deploy 1.4.{n}",
            HypothesisStatus.SUPPORTED if n == 0 else HypothesisStatus.POSSIBLE,
            "open connections grow by one per request and never fall back",
            0.9 - n / 10,
            ["SELECT count(*), application_name FROM pg_stat_activity GROUP BY 2"],
        )
        for n in range(5)
    ]
    diagnosis = Diagnosis(
        agent="database-fixer",
        title=f"PostgreSQL ran out of connection slots (orders-{key})",
        root_cause=(
            f"orders-{key} opens a connection per request and never closes it; "
            "max_connections=100 is reached and new sessions are refused."
        ),
        confidence=0.86,
        hypotheses=hypotheses,
        remediation=[
            "Roll back the release that introduced the leak",
            "Put a pool (PgBouncer) in front of PostgreSQL",
            "Set idle_in_transaction_session_timeout to end abandoned sessions",
            "Alert on connections above 80% of max_connections",
        ],
        commands=[
            "psql -c 'SELECT count(*), state FROM pg_stat_activity GROUP BY 2'",
            "psql -c 'SHOW max_connections'",
            "systemctl reload pgbouncer",
        ],
        references=[
            "https://www.postgresql.org/docs/current/runtime-config-connection.html",
            "https://www.pgbouncer.org/config.html",
        ],
        evidence=lines[:10],
        facts={"engine": "postgresql", "db": "shopdb", "max_connections": 100},
        entry_ids=["postgresql-too-many-clients"],
    )
    scores = dict.fromkeys(Domain, 0.05)
    scores[domain] = 0.88
    return Incident(
        id=incident_id(key),
        fingerprint=fingerprint(key),
        title="sorry, too many clients already",
        severity=severity,
        score=0.9,
        signals=signals,
        templates=templates,
        count=20,
        first_seen=start,
        last_seen=last,
        hosts=["db-1"],
        services=[f"orders-{key}", "postgres"],
        sources=[f"/var/log/postgresql/orders-{key}.log"],
        formats=["postgresql"],
        lines=lines,
        entities={"db=shopdb": 20, f"pool=orders-{key}": 20},
        entry_ids=["postgresql-too-many-clients"],
        grouped_because=[
            "same signature postgresql-too-many-clients",
            f"same service orders-{key}",
        ],
        minutes={int(start.timestamp()) // 60 + i: 7 for i in range(3)} if start else {},
        classification=Classification(scores=scores, reasons={domain: ["signature hit"]}),
        diagnosis=diagnosis,
    )


def make_result(incidents: list[Incident]) -> AnalysisResult:
    summary: dict[str, Any] = {
        "sources": [
            {"source": "/var/log/postgresql/postgresql.log", "format": "postgresql",
             "lines": 1800, "records": 1790, "bytes": 240_000}
        ],
        "totals": {"sources": 1, "lines": 1800, "records": 1790, "templates": 57},
    }  # fmt: skip
    return AnalysisResult(incidents=incidents, summary=summary)
