"""The dashboard's data layer against a store filled by real analyses: what each page reads,
the writes its buttons make (compared with what the CLI shows), and the upload analysis."""

from __future__ import annotations

import gzip
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aiops_copilot.dashboard import data
from aiops_copilot.store import Store, StoreError
from dashboard.conftest import EVALS, RUNS

MYSQL = "MySQL: no free connection slots"


def _incident(store: Store, words: str) -> str:
    return next(item.id for item in store.incidents() if words in item.title)


def test_overview_counts_and_charts_agree_with_the_store(filled_store: Path) -> None:
    with Store(filled_store) as store:
        view = data.overview(store)
        incidents = store.incidents()
        assert view.statuses == {"open": len(incidents), "resolved": 0, "recurred": 0}
        assert sum(view.open_by_domain.values()) == len(incidents)
        assert view.open_by_domain["database"] >= 2 and view.open_by_domain["network"] >= 1
        assert list(view.open_by_severity) == [
            s for s in data.SEVERITIES if s in view.open_by_severity
        ]
        assert sum(row["incidents"] for row in view.over_time) == len(store.occurrence_points())
        assert {row["domain"] for row in view.over_time} >= {"database", "network", "security"}
        runs = store.runs()
        assert view.runs_total == len(runs) == len(RUNS)
        assert view.records_total == sum(r.records for r in runs) > 0
        assert [row["run"] for row in view.ingest] == sorted(r.id for r in runs)
        assert all(row["records/s"] and row["records/s"] > 0 for row in view.ingest)
        by_analysis = data.overview(store, axis="analysed")
        assert sum(r["incidents"] for r in by_analysis.over_time) == sum(
            r["incidents"] for r in view.over_time
        )


def test_incidents_over_time_buckets_by_hour_or_day_with_gaps_as_zero(filled_store: Path) -> None:
    with Store(filled_store) as store:
        points = store.occurrence_points()
    rows, bucket = data.incidents_over_time(points)
    # One incident has no log times: it sits at its analysis time, hours after the others.
    assert bucket == "hour"
    hours = sorted({row["time"] for row in rows})
    first, last = datetime.fromisoformat(hours[0]), datetime.fromisoformat(hours[-1])
    assert len(hours) == (last - first) // timedelta(hours=1) + 1 > 2
    assert sum(row["incidents"] for row in rows) == len(points)
    later = [replace(p, log_first_seen=p.log_first_seen + timedelta(days=9)) for p in points[:1]]
    daily, width = data.incidents_over_time([*points[1:], *later])
    assert width == "day" and len({row["time"] for row in daily}) == 10  # 23 Nov .. 2 Dec
    assert sum(row["incidents"] for row in daily) == len(points)


def test_filled_and_label() -> None:
    t0 = datetime(2026, 11, 2, 6, 0)
    minute = timedelta(minutes=1)
    assert data.filled({t0: 2, t0 + 3 * minute: 1}, minute) == [
        (t0, 2),
        (t0 + minute, 0),
        (t0 + 2 * minute, 0),
        (t0 + 3 * minute, 1),
    ]
    far = {t0: 1, t0 + data.MAX_FILLED * minute: 1}
    assert len(data.filled(far, minute)) == 2
    assert data.label(t0, minute) == "2026-11-02 06:00"
    assert data.label(t0, timedelta(days=1)) == "2026-11-02"


@pytest.mark.parametrize(
    ("wanted", "check"),
    [
        (data.IncidentFilter(domain="database"), lambda r: r["domain"] == "database"),
        (data.IncidentFilter(domain="network"), lambda r: r["domain"] == "network"),
        (data.IncidentFilter(severity="medium"), lambda r: r["severity"] == "medium"),
        (data.IncidentFilter(text="mysql"), lambda r: "MySQL" in r["title"]),
        (data.IncidentFilter(status="open", text="INC-"), lambda r: r["status"] == "open"),
    ],
)
def test_incident_filters(filled_store: Path, wanted: data.IncidentFilter, check: object) -> None:
    with Store(filled_store) as store:
        rows = data.incident_rows(store, wanted)
        everything = data.incident_rows(store, data.IncidentFilter())
    assert rows and all(check(row) for row in rows)  # type: ignore[operator]
    assert len(rows) < len(everything) or wanted.status == "open"


def test_filters_that_match_nothing(filled_store: Path) -> None:
    with Store(filled_store) as store:
        assert data.incident_rows(store, data.IncidentFilter(status="resolved")) == []
        assert data.incident_rows(store, data.IncidentFilter(text="no such words")) == []
        assert data.incident_rows(store, data.IncidentFilter(domain=data.UNCLASSIFIED)) == []


def test_incident_page_has_everything_the_page_shows(filled_store: Path) -> None:
    with Store(filled_store) as store:
        page = data.incident_page(store, _incident(store, MYSQL))
    assert page.latest["root_cause"] and page.latest["remediation"]
    assert page.hypotheses and all(h["hypothesis"] and h["because"] for h in page.hypotheses)
    assert page.hypotheses[0]["status"] == "supported"
    assert page.evidence and all(":" in e["where"] and e["line"] for e in page.evidence)
    timed = sum(point["count"] for point in page.latest["timeline"])
    assert sum(row["records"] for row in page.timeline) == timed
    assert 0 < timed <= page.latest["count"]  # records without a timestamp have no minute
    assert [r["minute"] for r in page.timeline] == sorted({r["minute"] for r in page.timeline})
    # Memory found the PostgreSQL incident stored before it.
    assert any("PostgreSQL" in s["title"] for s in page.similar)
    assert [o["run"] for o in page.occurrences] == [page.detail.occurrences[0].run_id]


def test_a_prefix_opens_an_incident_and_nonsense_does_not(filled_store: Path) -> None:
    with Store(filled_store) as store:
        key = _incident(store, MYSQL)
        assert data.incident_page(store, key[:8].lower()).detail.incident.id == key
        with pytest.raises(StoreError):
            data.incident_page(store, "INC-nothing")


def test_verdicts_write_exactly_what_the_cli_writes(  # type: ignore[no-untyped-def]
    filled_store: Path, store_copy: Path, tmp_path: Path, run_cli
) -> None:
    """The same verdicts through the dashboard (one copy of the store) and through ``aiops
    feedback`` / ``aiops incidents resolve`` (another copy) leave the same rows behind."""
    by_cli = tmp_path / "cli"
    shutil.copytree(filled_store.parent, by_cli, ignore=shutil.ignore_patterns("home"))
    cli_db = str(by_cli / filled_store.name)
    with Store(store_copy) as store:
        key = _incident(store, MYSQL)
        assert "correct" in data.mark_correct(store, key, "spot on")
        message = data.mark_wrong(store, key, "infrastructure", "it was the pool size")
        assert "next time it goes to infrastructure" in message
        with pytest.raises(StoreError):
            data.mark_wrong(store, key, "plumbing")
        with pytest.raises(StoreError):
            data.resolve(store, key, "   ", str(store_copy))
        assert "resolved: raised max_connections" in data.resolve(
            store, key, "raised max_connections", str(store_copy)
        )
    for args in (
        ("feedback", key, "--correct", "--note", "spot on"),
        (
            "feedback",
            key,
            "--wrong",
            "--domain",
            "infrastructure",
            "--note",
            "it was the pool size",
        ),
        ("incidents", "resolve", key, "--note", "raised max_connections"),
    ):
        done = run_cli(*args, "--db", cli_db)
        assert done.code == 0, done.stderr

    def shown(db: str) -> tuple[object, ...]:
        with Store(db) as store:
            detail = store.incident(key)
            rules = store.rules()
        return (
            detail.incident.status,
            detail.incident.resolution_note,
            [(f.kind, f.domain, f.note) for f in detail.feedback],
            sorted((r.fingerprint, r.kind, r.value, r.weight, r.note) for r in rules),
        )

    mine, theirs = shown(str(store_copy)), shown(cli_db)
    assert mine == theirs
    assert mine[0] == "resolved" and mine[1] == "raised max_connections"
    assert ("correct", None, "spot on") in mine[2]  # type: ignore[operator]


def test_template_rows_and_series(filled_store: Path) -> None:
    with Store(filled_store) as store:
        rows = data.template_rows(store)
        assert rows and rows == sorted(rows, key=lambda r: -r["records"])
        assert sum(1 for r in rows if r["new"]) == len(data.template_rows(store, new_only=True))
        found = data.template_rows(store, search="too many connections")
        assert found and all(
            "too many connections" in (r["template"] + r["example"]).lower() for r in found
        )
        points, width = data.series_rows(store, rows[0]["id"])
        assert width == 1 and sum(p["records"] for p in points) == rows[0]["records"]
        with pytest.raises(StoreError):
            data.series_rows(store, "Tnothing")


def test_an_uploaded_file_is_analysed_and_stored(store_copy: Path) -> None:
    log = EVALS / "security" / "ssh-bruteforce-then-successful-login" / "logs"
    content = b"".join(p.read_bytes() for p in sorted(log.iterdir()) if p.is_file())
    with Store(store_copy) as store:
        before = store.stats().counts["runs"]
    outcome = data.analyze_upload(
        "../../auth log.gz", gzip.compress(content), where=str(store_copy), store=True
    )
    assert outcome.error is None and outcome.report is not None and outcome.stored
    rows = data.report_rows(outcome.report)
    assert rows and rows[0]["domain"] == "security"
    with Store(store_copy) as store:
        assert store.stats().counts["runs"] == before + 1
        assert {row["id"] for row in rows} <= {item.id for item in store.incidents()}


def test_an_upload_need_not_be_stored(store_copy: Path) -> None:
    log = EVALS / "network" / "nginx-upstream-connection-refused" / "logs"
    first = sorted(p for p in log.iterdir() if p.is_file())[0]
    outcome = data.analyze_upload(
        first.name, first.read_bytes(), where=str(store_copy), store=False
    )
    assert outcome.report is not None and not outcome.stored
    with Store(store_copy) as store:
        assert store.stats().counts["runs"] == len(RUNS)


def test_bad_uploads_are_one_line(tmp_path: Path) -> None:
    empty = data.analyze_upload("empty.log", b"", where=None, store=False)
    assert empty.report is None and empty.error == "empty.log is empty"
    refused = data.analyze_upload(
        "a.log", b"hello\n", where="mysql://nobody@localhost/x", store=True
    )
    # As on the command line: the report comes, the history does not, and it says why.
    assert refused.report is not None and not refused.stored
    assert any("not stored: unsupported database 'mysql'" in w for w in refused.warnings)
