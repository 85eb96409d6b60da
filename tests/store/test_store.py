"""The Store API against a real SQLite file and a real PostgreSQL database (both, each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiops_copilot.models import Domain, IncidentStatus
from aiops_copilot.store import Store, StoreError, UnknownIncident
from aiops_copilot.store.schema import Feedback, IncidentRow, Rule
from store.store_samples import T0, incident_id, make_incident, make_result

DAY = timedelta(days=1)
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def test_first_sighting_has_no_history_and_is_stored(db_url: str) -> None:
    with Store(db_url) as store:
        result = make_result([make_incident("a"), make_incident("b", start=None)])
        stored = store.record(result, now=NOW)
        assert (stored.incidents, stored.seen_before, stored.recurring) == (2, 0, 0)
        assert all(incident.history is None for incident in result.incidents)
        listed = {item.id: item for item in store.incidents()}
        assert set(listed) == {incident_id("a"), incident_id("b")}
        row = listed[incident_id("a")]
        assert (row.status, row.times_seen, row.domain) == ("open", 1, "database")
        assert row.first_seen_at == NOW and row.last_seen_at == NOW
        assert row.log_first_seen == T0.replace(tzinfo=None)


def test_new_logs_with_the_same_fingerprint_are_a_recurrence(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(make_result([make_incident("a", start=T0)]), now=NOW)
        second = make_result([make_incident("a", start=T0 + 7 * DAY)])
        stored = store.record(second, now=NOW + DAY)
        history = second.incidents[0].history
        assert history is not None and stored.recurring == 1
        assert history.times_seen == 2 and not history.same_logs
        assert history.first_seen_at == NOW and history.last_seen_at == NOW
        assert history.status is IncidentStatus.OPEN


def test_the_same_logs_read_again_are_not_a_recurrence(db_url: str) -> None:
    """Overlapping log windows (the same file, or more of it) neither count nor reopen."""
    with Store(db_url) as store:
        store.record(make_result([make_incident("a")]), now=NOW)
        store.resolve(incident_id("a"), "restarted the pool", now=NOW + DAY)
        again = make_result([make_incident("a", start=T0 + timedelta(seconds=30))])
        stored = store.record(again, now=NOW + 2 * DAY)
        history = again.incidents[0].history
        assert history is not None and history.same_logs
        assert (stored.seen_before, stored.recurring) == (1, 0)
        assert history.times_seen == 1 and history.status is IncidentStatus.RESOLVED
        assert store.incidents()[0].status == "resolved"


def test_without_log_times_every_analysis_is_a_sighting(db_url: str) -> None:
    with Store(db_url) as store:
        for n in range(3):
            result = make_result([make_incident("a", start=None)])
            store.record(result, now=NOW + n * DAY)
        assert result.incidents[0].history is not None
        assert result.incidents[0].history.times_seen == 3


def test_resolve_then_recur_keeps_the_note(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(make_result([make_incident("a", start=T0)]), now=NOW)
        resolved = store.resolve(incident_id("a")[:8], "PgBouncer in front of shopdb", now=NOW)
        assert resolved.status == "resolved" and resolved.resolved_at == NOW
        later = make_result([make_incident("a", start=T0 + 3 * DAY)])
        store.record(later, now=NOW + 3 * DAY)
        history = later.incidents[0].history
        assert history is not None
        assert history.status is IncidentStatus.RECURRED
        assert history.last_resolution_note == "PgBouncer in front of shopdb"
        assert history.last_resolved_at == NOW
        row = store.incident(incident_id("a"))
        assert row.incident.status == "recurred" and row.incident.times_seen == 2
        # Seen once more while recurred: it stays recurred until someone resolves it again.
        store.record(make_result([make_incident("a", start=T0 + 5 * DAY)]), now=NOW + 5 * DAY)
        assert store.incident(incident_id("a")).incident.status == "recurred"


def test_show_gives_back_the_json_contract(db_url: str) -> None:
    with Store(db_url) as store:
        incident = make_incident("a")
        store.record(make_result([incident]), now=NOW)
        store.record(make_result([make_incident("a", start=T0 + DAY)]), now=NOW + DAY)
        detail = store.incident(incident.id)
        assert [o.seen_at for o in detail.occurrences] == [NOW + DAY, NOW]
        latest = detail.occurrences[-1].report
        assert latest["id"] == incident.id and latest["fingerprint"] == incident.fingerprint
        assert latest["root_cause"].startswith("orders-a opens a connection")
        assert len(latest["evidence"]) == 10 and latest["evidence"][0] == incident.lines[0].text
        assert latest["evidence_lines"][0]["line_no"] == 100
        assert latest["classification"]["top"] == "database"
        assert [s["kind"] for s in latest["signals"]] == ["signature", "severity", "burst"]
        assert len(latest["hypotheses"]) == 5 and latest["agent"] == "database-fixer"
        assert detail.feedback == []


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("INC-0000000000", "no stored incident"),
        ("nothing", "no stored incident"),
        ("", "no stored incident"),
        ("INC-", "ambiguous"),
        ("%", "no stored incident"),
    ],
)
def test_unknown_or_ambiguous_ids(db_url: str, key: str, error: str) -> None:
    with Store(db_url) as store:
        store.record(make_result([make_incident(k) for k in "abcdefg"]), now=NOW)
        with pytest.raises(UnknownIncident, match=error):
            store.incident(key)
        with pytest.raises(UnknownIncident):
            store.resolve(key, "note")


def test_an_id_prefix_is_case_insensitive(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(make_result([make_incident("a")]), now=NOW)
        assert store.incident(incident_id("a").lower()[:9]).incident.id == incident_id("a")


def test_list_filters(db_url: str) -> None:
    with Store(db_url) as store:
        store.record(make_result([make_incident("old", domain=Domain.NETWORK)]), now=NOW - 9 * DAY)
        recent = [make_incident("db"), make_incident("sec", domain=Domain.SECURITY)]
        store.record(make_result(recent), now=NOW)
        store.resolve(incident_id("db"), "fixed", now=NOW)

        def ids(**filters: object) -> set[str]:
            return {item.id for item in store.incidents(**filters)}  # type: ignore[arg-type]

        everything = {incident_id(k) for k in ("old", "db", "sec")}
        assert ids() == everything
        assert ids(since=NOW - DAY) == {incident_id("db"), incident_id("sec")}
        assert ids(domain="network") == {incident_id("old")}
        assert ids(status="resolved") == {incident_id("db")}
        assert ids(status="open", since=NOW - DAY) == {incident_id("sec")}
        assert ids(domain="integration") == set()
        assert len(store.incidents(limit=2)) == 2
        assert store.incidents()[-1].id == incident_id("old")  # most recently seen first


def test_prune_deletes_old_runs_then_orphans(db_url: str) -> None:
    with Store(db_url) as store:
        old = make_result([make_incident("gone"), make_incident("both")])
        store.record(old, now=NOW - 40 * DAY, started_at=NOW - 40 * DAY)
        store.record(make_result([make_incident("both", start=T0 + 40 * DAY)]), now=NOW)
        with store._session(write=True) as session:
            session.add(
                Feedback(incident_id=incident_id("gone"), kind="wrong", note="x", created_at=NOW)
            )
            session.add(Rule(fingerprint="fp", kind="domain", value="network", created_at=NOW))
        result = store.prune(NOW - 30 * DAY)
        assert (result.runs, result.occurrences, result.incidents) == (1, 2, 1)
        assert result.templates == 2  # the templates only "gone" cited
        assert [item.id for item in store.incidents()] == [incident_id("both")]
        stats = store.stats()
        assert stats.counts == {
            "runs": 1,
            "incidents": 1,
            "occurrences": 1,
            "templates": 2,
            "template_counts": 0,
            "feedback": 0,
            "rules": 1,  # learned rules outlive the incidents they came from
        }
        assert store.incident(incident_id("both")).incident.times_seen == 2
        assert store.prune(NOW - 30 * DAY).runs == 0


def test_prune_with_vacuum(sqlite_url: str) -> None:
    with Store(sqlite_url) as store:
        store.record(make_result([make_incident(str(i)) for i in range(50)]), now=NOW - 40 * DAY)
        result = store.prune(NOW, vacuum=True)
        assert result.vacuumed and result.incidents == 50
        assert store.stats().counts["occurrences"] == 0


def test_stats(db_url: str) -> None:
    with Store(db_url) as store:
        empty = store.stats()
        assert set(empty.counts.values()) == {0} and empty.oldest_run is None
        store.record(make_result([make_incident("a")]), now=NOW - DAY, started_at=NOW - DAY)
        store.record(make_result([make_incident("b")]), now=NOW, started_at=NOW)
        stats = store.stats()
        assert stats.counts["runs"] == 2 and stats.counts["occurrences"] == 2
        assert stats.statuses == {"open": 2}
        assert (stats.oldest_run, stats.newest_run) == (NOW - DAY, NOW)
        assert stats.schema == "0003" and stats.size_bytes and stats.size_bytes > 0


def test_one_result_with_a_fingerprint_twice(db_url: str) -> None:
    """The pipeline never does this, but a merge could: one row, two occurrences."""
    with Store(db_url) as store:
        store.record(make_result([make_incident("a"), make_incident("a")]), now=NOW)
        detail = store.incident(incident_id("a"))
        assert detail.incident.times_seen == 1 and len(detail.occurrences) == 2


def test_a_failed_record_leaves_nothing_behind(db_url: str) -> None:
    """One transaction: an error half-way stores neither the run nor any incident."""
    with Store(db_url) as store:
        good = make_incident("a")
        clash = make_incident("c")
        clash.id = good.id  # same id, other fingerprint: a primary-key clash on both
        with pytest.raises(StoreError):
            store.record(make_result([good, clash]), now=NOW)
        assert store.incidents() == [] and store.stats().counts["runs"] == 0
        assert good.history is None


def test_incident_rows_use_the_pipeline_id(db_url: str) -> None:
    with Store(db_url) as store:
        incident = make_incident("a")
        store.record(make_result([incident]), now=NOW)
        with store._session(write=False) as session:
            row = session.get(IncidentRow, incident.id)
            assert row is not None and row.fingerprint == incident.fingerprint
