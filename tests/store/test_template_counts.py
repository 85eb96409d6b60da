"""Template counts per run: written by ``Store.record``, read by ``Store.templates`` and
``Store.template_series``, on a real SQLite file and a real PostgreSQL database; the r0002
migration upgrading a database that r0001 made and filled; and a real analysis through the CLI.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from aiops_copilot.models import AnalysisResult, TemplateCount
from aiops_copilot.store import Store, to_url
from aiops_copilot.store.engine import MIGRATIONS, make_engine, transaction
from aiops_copilot.store.template_counts import MAX_BUCKETS, WIDTHS, UnknownTemplate, histogram
from store.store_samples import make_incident, make_result

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
M0 = int(T0.timestamp()) // 60
EVAL = Path(__file__).resolve().parents[1] / "evals"


def counted(key: str, minutes: dict[int, int], *, tz: bool = True) -> TemplateCount:
    """A template with ``minutes`` (offsets from T0 -> records), like the statistics give."""
    stamps = [T0 + timedelta(minutes=m) for m in minutes]
    if not tz:
        stamps = [s.replace(tzinfo=None) for s in stamps]
    return TemplateCount(
        template_id=f"T{key}",
        template=f"worker {key} finished job <NUM>",
        example=f"worker {key} finished job 17",
        count=sum(minutes.values()),
        first_seen=min(stamps) if stamps else None,
        last_seen=max(stamps) if stamps else None,
        minutes={M0 + m: n for m, n in minutes.items()},
    )


def result(*templates: TemplateCount) -> AnalysisResult:
    out = make_result([])
    out.templates = list(templates)
    return out


def by_id(store: Store, **kwargs: object) -> dict[str, object]:
    return {t.id: t for t in store.templates(limit=None, **kwargs)}  # type: ignore[arg-type]


# -- histograms ----------------------------------------------------------------------------


def test_a_short_run_keeps_one_minute_buckets() -> None:
    assert histogram({M0 + 2: 3, M0: 5}) == (1, [[M0, 5], [M0 + 2, 3]])
    assert histogram({}) == (1, [])


@pytest.mark.parametrize("span", [MAX_BUCKETS + 1, 3 * 24 * 60, 400 * 24 * 60])
def test_a_long_run_is_coarsened_to_fit_and_keeps_every_record(span: int) -> None:
    minutes = {M0 + m: 1 + m % 3 for m in range(0, span, max(1, span // 5000))}
    width, buckets = histogram(minutes)
    assert width in WIDTHS and width > 1
    assert len(buckets) <= MAX_BUCKETS or width == WIDTHS[-1]
    assert sum(n for _, n in buckets) == sum(minutes.values())
    assert all(start % width == 0 for start, _ in buckets)
    finer = WIDTHS[WIDTHS.index(width) - 1]
    assert len({m // finer for m in minutes}) > MAX_BUCKETS


# -- writing and reading -------------------------------------------------------------------


def test_counts_totals_runs_and_new_templates(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(result(counted("a", {0: 4, 1: 6}), counted("b", {0: 1})), now=NOW)
        first = by_id(store)
        assert {k: (t.total, t.runs, t.new) for k, t in first.items()} == {  # type: ignore[attr-defined]
            "Ta": (10, 1, True),
            "Tb": (1, 1, True),
        }
        later = NOW + timedelta(hours=1)
        store.record(result(counted("a", {60: 2}), counted("c", {61: 9})), now=later)
        found = store.templates(limit=None)
        assert [(t.id, t.total, t.runs, t.new) for t in found] == [
            ("Ta", 12, 2, False),
            ("Tc", 9, 1, True),
            ("Tb", 1, 1, False),
        ]
        a = next(t for t in found if t.id == "Ta")
        assert a.first_seen_at == NOW and a.last_seen_at == later
        assert a.log_first_seen == T0.replace(tzinfo=None)
        assert a.log_last_seen == (T0 + timedelta(minutes=60)).replace(tzinfo=None)
        assert [t.id for t in store.templates(new_only=True)] == ["Tc"]
        assert [t.id for t in store.templates(limit=1)] == ["Ta"]
        since = store.templates(since=later, limit=None)
        assert [(t.id, t.total, t.runs) for t in since] == [("Tc", 9, 1), ("Ta", 2, 1)]
        assert all(t.new == (t.id == "Tc") for t in since)
        with store.engine.connect() as connection:
            flags = connection.execute(
                text("SELECT run_id, template_id, is_new FROM template_counts ORDER BY 1, 2")
            ).all()
        assert [(r[1], bool(r[2])) for r in flags] == [
            ("Ta", True),
            ("Tb", True),
            ("Ta", False),
            ("Tc", True),
        ]


def test_search_matches_template_example_and_id_literally(db_url: str) -> None:
    with Store(db_url) as store:
        odd = TemplateCount("Tpct", "disk 100% full on <PATH>", "disk 100% full on /var", 3)
        store.record(result(counted("alpha", {0: 1}), counted("beta", {0: 2}), odd), now=NOW)
        assert [t.id for t in store.templates(search="ALPHA")] == ["Talpha"]
        assert [t.id for t in store.templates(search="job 17")] == ["Tbeta", "Talpha"]
        assert [t.id for t in store.templates(search="0%")] == ["Tpct"]
        assert [t.id for t in store.templates(search="tbet")] == ["Tbeta"]
        assert store.templates(search="_") == []


def test_the_same_lines_read_again_are_not_counted_twice(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(result(counted("a", {0: 4, 1: 6})), now=NOW)
        store.record(result(counted("a", {0: 4, 1: 6})), now=NOW + timedelta(minutes=5))
        (again,) = store.templates()
        assert (again.total, again.runs) == (10, 2)
        # The file grew: the old minutes again, plus two new ones.
        store.record(result(counted("a", {0: 4, 1: 6, 2: 5, 3: 1})), now=NOW + timedelta(hours=1))
        (grown,) = store.templates()
        assert grown.total == 16
        series = store.template_series("Ta")
        assert series.bucket_minutes == 1
        assert [n for _, n in series.points] == [4, 6, 5, 1]
        assert series.points[0][0] == T0.replace(tzinfo=None)


def test_new_lines_add_up_in_the_series(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(result(counted("a", {0: 4, 1: 6})), now=NOW)
        store.record(result(counted("a", {2: 1, 3: 2})), now=NOW + timedelta(minutes=9))
        series = store.template_series("Ta")
        assert [(p[0].minute, p[1]) for p in series.points] == [(0, 4), (1, 6), (2, 1), (3, 2)]
        assert store.templates()[0].total == 13


def test_series_of_runs_with_different_widths_merge_at_the_widest(db_url: str) -> None:
    long_run = {m: 1 for m in range(100, 100 + 2 * MAX_BUCKETS)}  # needs 5-minute buckets
    with Store(db_url) as store:
        store.record(result(counted("a", {0: 3, 1: 2, 7: 1})), now=NOW)
        store.record(result(counted("a", long_run)), now=NOW + timedelta(hours=9))
        series = store.template_series("Ta")
        assert series.bucket_minutes == 5
        points = dict(series.points)
        assert points[T0.replace(tzinfo=None)] == 5
        assert points[(T0 + timedelta(minutes=5)).replace(tzinfo=None)] == 1
        assert points[(T0 + timedelta(minutes=100)).replace(tzinfo=None)] == 5
        assert sum(points.values()) == 6 + 2 * MAX_BUCKETS
        assert store.templates()[0].total == 6 + 2 * MAX_BUCKETS


def test_timeless_records_count_every_time_and_have_no_series(db_url: str) -> None:
    with Store(db_url) as store:
        plain = TemplateCount("Tplain", "ready", "ready", 7)
        store.record(result(plain), now=NOW)
        store.record(result(plain), now=NOW + timedelta(hours=1))
        (item,) = store.templates()
        assert (item.total, item.runs, item.log_first_seen) == (14, 2, None)
        assert store.template_series("Tplain").points == []


def test_naive_log_times_keep_the_sources_wall_clock(db_url: str) -> None:
    with Store(db_url) as store:
        item = counted("n", {0: 2, 3: 1}, tz=False)
        # The statistics count a naive time by datetime.timestamp(): local time.
        stamps = {0: T0.replace(tzinfo=None), 3: (T0 + timedelta(minutes=3)).replace(tzinfo=None)}
        item.minutes = {int(stamps[m].timestamp()) // 60: n for m, n in ((0, 2), (3, 1))}
        store.record(result(item), now=NOW)
        series = store.template_series("Tn")
        assert series.points == [(stamps[0], 2), (stamps[3], 1)]


def test_an_unknown_template_is_a_one_line_error(db_url: str) -> None:
    with Store(db_url) as store, pytest.raises(UnknownTemplate) as error:
        store.template_series("Tnothing")
    assert "Tnothing" in str(error.value) and "\n" not in str(error.value)


def test_incidents_and_counts_share_the_templates_table(db_url: str) -> None:
    """A cited template that the run also counted is one row, new once."""
    with Store(db_url) as store:
        incident = make_incident("x")
        ref = incident.templates[0]
        same = TemplateCount(ref.template_id, ref.template, ref.example, 20, T0, T0, {M0: 20})
        run = make_result([incident])
        run.templates = [same]
        store.record(run, now=NOW)
        listed = by_id(store)
        assert set(listed) == {ref.template_id, incident.templates[1].template_id}
        assert listed[ref.template_id].total == 20  # type: ignore[attr-defined]
        assert listed[incident.templates[1].template_id].runs == 0  # type: ignore[attr-defined]
        assert store.stats().counts["template_counts"] == 1


def test_prune_removes_old_counts_and_templates_nothing_refers_to(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(result(counted("old", {0: 1}), counted("both", {0: 1})), now=NOW)
        later = NOW + timedelta(days=40)
        store.record(result(counted("both", {9000: 2})), now=later, started_at=later)
        pruned = store.prune(NOW + timedelta(days=1))
        assert (pruned.runs, pruned.templates) == (1, 1)
        assert [(t.id, t.total, t.runs) for t in store.templates()] == [("Tboth", 2, 1)]
        assert store.stats().counts["template_counts"] == 1


def test_many_templates_go_in_chunks(db_url: str) -> None:
    many = [counted(f"{n:04d}", {n % 50: 1 + n % 4}) for n in range(1200)]
    with Store(db_url) as store:
        store.record(result(*many), now=NOW)
        store.record(result(*many[:700]), now=NOW + timedelta(hours=1))
        found = store.templates(limit=None)
        assert len(found) == 1200
        assert sum(t.total for t in found) == sum(t.count for t in many)
        assert sum(t.runs for t in found) == 1900
        assert sum(1 for t in found if t.new) == 0


# -- the migration -------------------------------------------------------------------------


def _at_0001(url: str) -> None:
    """A database as aiops with only r0001 left it, with one run that cited a template."""
    engine = make_engine(to_url(url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with transaction(engine, write=True) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runs (started_at, stored_at, command, tool_version, sources, "
                "lines, records, templates, incidents, severities) VALUES (:t, :t, 'analyze',"
                " '0.1', '[]', 10, 10, 1, 0, '{}')"
            ),
            {"t": (NOW - timedelta(days=1)).replace(tzinfo=None)},
        )
        connection.execute(
            text(
                "INSERT INTO templates (id, template, example, first_seen_at, last_seen_at) "
                "VALUES ('Ta', 'worker a finished job <NUM>', 'worker a finished job 1', :t, :t)"
            ),
            {"t": (NOW - timedelta(days=1)).replace(tzinfo=None)},
        )
    engine.dispose()


def test_r0002_upgrades_a_filled_r0001_database(db_url: str) -> None:
    _at_0001(db_url)
    with Store(db_url) as store:
        assert store.stats().schema == "0003"
        assert "template_counts" in inspect(store.engine).get_table_names()
        (old,) = store.templates()
        assert (old.id, old.total, old.runs, old.log_first_seen) == ("Ta", 0, 0, None)
        assert store.stats().counts["runs"] == 1
        store.record(result(counted("a", {0: 3}), counted("b", {0: 1})), now=NOW)
        listed = {t.id: (t.total, t.runs, t.new) for t in store.templates()}
        assert listed == {"Ta": (3, 1, False), "Tb": (1, 1, True)}


def test_the_upgrade_keeps_a_sqlite_file_intact(sqlite_url: str) -> None:
    _at_0001(sqlite_url)
    Store(sqlite_url).close()
    with sqlite3.connect(sqlite_url) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


# -- a real analysis -----------------------------------------------------------------------


def test_analyze_stores_every_template_with_its_counts(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case = EVAL / "database" / "postgres-connection-leak-slots-exhausted" / "logs"
    db = tmp_path / "a.db"
    first = run_cli(
        "analyze", "--no-memory", "--fail-on", "never", "--json", "--db", str(db), str(case)
    )
    assert first.code == 0, first.stderr
    report = json.loads(first.stdout)
    with Store(db) as store:
        found = store.templates(limit=None)
        assert len(found) == report["summary"]["totals"]["templates"]
        assert sum(t.total for t in found) == report["summary"]["totals"]["records"]
        assert all(t.new and t.runs == 1 for t in found)
        busiest = found[0]
        assert busiest.total == max(row["count"] for row in report["summary"]["top_templates"])
        series = store.template_series(busiest.id)
        assert sum(n for _, n in series.points) == busiest.total
    again = run_cli("analyze", "--no-memory", "--fail-on", "never", "--db", str(db), str(case))
    assert again.code == 0, again.stderr
    with Store(db) as store:
        twice = {t.id: t for t in store.templates(limit=None)}
        assert all(t.runs == 2 and not t.new for t in twice.values())
        timed = [t for t in twice.values() if t.log_first_seen is not None]
        assert timed and all(t.total == next(f for f in found if f.id == t.id).total for t in timed)
