"""StatsCollector: per-template counts, times, evidence lines, counters, entities, error details
and sessions, all bounded; clusters the miner merged are folded into their survivor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from core_helpers import Rec, at, by_template, collect, records, stats_of
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect import stats as stats_module
from aiops_copilot.detect.stats import (
    FIRST_LINES,
    LAST_LINES,
    MAX_DISTINCT,
    MAX_LINE_CHARS,
    StatsCollector,
    epoch_minute,
)
from aiops_copilot.models import Level
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record


def test_counts_levels_minutes_and_times() -> None:
    lines = [
        Rec("order 1 shipped", Level.INFO, at=at(0)),
        Rec("order 2 shipped", Level.INFO, at=at(0.5)),
        Rec("order 3 shipped", Level.WARNING, at=at(3)),
        Rec("payment declined for order 4", Level.ERROR, at=at(2)),
    ]
    collector, templates = collect(lines)
    shipped = by_template(templates, "shipped")
    assert shipped.count == 3
    assert shipped.levels == {Level.INFO: 2, Level.WARNING: 1}
    assert shipped.max_level is Level.WARNING
    assert shipped.count_at_least(Level.WARNING) == 1
    assert shipped.minutes == {epoch_minute(at(0)): 2, epoch_minute(at(3)): 1}
    assert (shipped.first_seen, shipped.last_seen) == (at(0), at(3))
    assert collector.records == 4
    assert collector.levels == {"INFO": 2, "WARNING": 1, "ERROR": 1}
    assert (collector.first_seen, collector.last_seen) == (at(0), at(3))


def test_templates_come_in_order_of_first_appearance() -> None:
    lines = [
        Rec("service started on port 8080"),
        Rec("order 1 shipped"),
        Rec("order 2 shipped"),
        Rec("cache warmed in 3 ms"),
    ]
    _, templates = collect(lines)
    assert [t.first_index for t in templates] == [0, 1, 3]
    assert "started" in templates[0].example
    assert "cache" in templates[-1].example


def test_records_without_time_still_count() -> None:
    stats = stats_of([Rec("order 1 shipped"), Rec("order 2 shipped")])
    assert stats.count == 2
    assert stats.minutes == {}
    assert stats.first_seen is None and stats.last_seen is None


def test_epoch_minute() -> None:
    assert epoch_minute(datetime(1970, 1, 1, 0, 2, 59, tzinfo=UTC)) == 2
    assert epoch_minute(at(1)) - epoch_minute(at(0)) == 1


@pytest.mark.parametrize(
    ("count", "level", "kept"),
    [
        (4, Level.INFO, [1, 2, 3, 4]),
        (6, Level.INFO, [1, 2, 3, 4, 5, 6]),
        # INFO: the first six, then every seventh record as a sample of the latest.
        (100, Level.INFO, [1, 2, 3, 4, 5, 6, 84, 91, 98]),
        # Errors: the first six and always the most recent three.
        (100, Level.ERROR, [1, 2, 3, 4, 5, 6, 98, 99, 100]),
    ],
)
def test_evidence_lines_are_capped(count: int, level: Level, kept: list[int]) -> None:
    stats = stats_of([Rec(f"job {i} failed", level, at=at(i)) for i in range(count)])
    assert len(stats.first_lines) <= FIRST_LINES
    assert len(stats.last_lines) <= LAST_LINES
    assert [ref.line_no for ref in stats.lines] == kept


def test_evidence_lines_cite_source_and_raw_text() -> None:
    lines = [
        Rec("order 1 failed", Level.ERROR, at=at(0), source="a.log", raw="12:00 E order 1 failed"),
        Rec("order 2 failed", Level.ERROR, at=at(1), source="b.log"),
    ]
    first, second = stats_of(lines).lines
    assert (first.source, first.line_no, first.end_line) == ("a.log", 1, 1)
    assert first.text == "12:00 E order 1 failed"
    assert first.timestamp == at(0)
    assert (second.source, second.line_no, second.text) == ("b.log", 1, "order 2 failed")


def test_multiline_record_keeps_its_span() -> None:
    stats = stats_of([Rec("Traceback (most recent call last):", Level.ERROR, end_offset=4)])
    (ref,) = stats.lines
    assert (ref.line_no, ref.end_line) == (1, 5)
    assert ref.location == "app.log:1-5"


def test_long_lines_are_cut() -> None:
    stats = stats_of([Rec("payload " + "x" * 5000, Level.ERROR)])
    (ref,) = stats.lines
    # Head and tail are kept (a traceback's last line is the exception).
    assert len(ref.text) == MAX_LINE_CHARS + 3
    assert ref.text.startswith("payload xxx") and "\n…\n" in ref.text


def test_hosts_services_sources_formats_are_counted() -> None:
    lines = [
        Rec("order 1 failed", Level.ERROR, host="web1", service="shop", source="a.log"),
        Rec("order 2 failed", Level.ERROR, host="web2", service="shop", source="b.log"),
        Rec("order 3 failed", Level.ERROR, host="web1", service="shop", source="a.log"),
    ]
    stats = stats_of(lines)
    assert stats.hosts == {"web1": 2, "web2": 1}
    assert stats.services == {"shop": 3}
    assert stats.sources == {"a.log": 2, "b.log": 1}
    assert stats.formats == {}


def test_counters_are_capped_with_the_rest_as_other() -> None:
    extra = 25
    lines = [
        Rec(f"order {i} failed", Level.ERROR, host=f"web{i}") for i in range(MAX_DISTINCT + extra)
    ]
    stats = stats_of(lines)
    assert len(stats.hosts) == MAX_DISTINCT + 1
    assert stats.hosts["(other)"] == extra
    assert sum(stats.hosts.values()) == MAX_DISTINCT + extra


def test_http_statuses_from_fields() -> None:
    lines = [
        Rec("request served", fields={"status": 200}),
        Rec("request served", fields={"status": 200}),
        Rec("request served", fields={"status": "502"}),
        Rec("request served", fields={"method": "GET"}),
    ]
    assert stats_of(lines).statuses == {"200": 2, "502": 1}


@pytest.mark.parametrize(
    ("message", "level", "entities"),
    [
        (
            "Failed password for root from 203.0.113.7 port 4022 ssh2",
            Level.UNKNOWN,
            {"user:root": 1, "ip:203.0.113.7": 1},
        ),
        (
            "Failed password for invalid user admin from 203.0.113.7 port 4022 ssh2",
            Level.WARNING,
            {"user:admin": 1, "ip:203.0.113.7": 1},
        ),
        ("connect to 10.0.0.5:5432 failed", Level.ERROR, {"ip:10.0.0.5:5432": 1}),
        ("authentication rejected user=bob", Level.NOTICE, {"user:bob": 1}),
        ("version 1.2.3.4.5 deployed", Level.ERROR, {}),
        # Routine INFO and DEBUG lines are not mined for entities.
        ("Accepted password for root from 203.0.113.7 port 4022 ssh2", Level.INFO, {}),
        ("client 10.0.0.5 connected", Level.DEBUG, {}),
    ],
)
def test_entities_from_warning_and_unlevelled_lines(
    message: str, level: Level, entities: dict[str, int]
) -> None:
    assert dict(stats_of([Rec(message, level)]).entities) == entities


@pytest.mark.parametrize(
    ("message", "entities"),
    [
        (
            "pam_unix(sshd:session): session opened for user alice(uid=1001) by (uid=0)",
            {"user:alice": 1},
        ),
        ("login failed user=bob", {"user:bob": 1}),
    ],
)
def test_entity_is_the_user_named(message: str, entities: dict[str, int]) -> None:
    assert dict(stats_of([Rec(message, Level.UNKNOWN)]).entities) == entities


def test_entities_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_module, "MAX_DISTINCT", 5)
    lines = [Rec(f"probe from 198.51.100.{i} refused", Level.WARNING) for i in range(20)]
    stats = stats_of(lines)
    assert len(stats.entities) == 6
    assert stats.entities["(other)"] >= 1
    assert sum(stats.entities.values()) <= 20


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"err": {"code": "ECONNREFUSED", "port": 5432}}, "err.code=ECONNREFUSED err.port=5432"),
        ({"error": "boom", "exception": "ValueError: x"}, "error=boom exception=ValueError: x"),
        ({"errors": ["a", "b"]}, "errors=a errors=b"),
        ({"errors": [str(i) for i in range(9)]}, "errors=0 errors=1 errors=2 errors=3 errors=4"),
        ({"cause": None, "status": 500}, ""),
        ({"user": "alice"}, ""),
        ({"err": {"a": {"b": {"c": {"d": {"e": "too deep"}}}}}}, ""),
    ],
)
def test_structured_error_detail(fields: dict[str, object], detail: str) -> None:
    stats = stats_of([Rec("request failed", Level.ERROR, fields=fields)])
    assert (stats.detail or "") == detail


def test_error_detail_is_capped() -> None:
    stats = stats_of([Rec("request failed", Level.ERROR, fields={"stack": "x" * 10_000})])
    assert stats.detail is not None
    assert len(stats.detail) == MAX_LINE_CHARS


def test_record_without_fields_leaves_detail_unset() -> None:
    assert stats_of([Rec("request failed", Level.ERROR)]).detail is None


def test_error_detail_comes_from_the_first_record_that_has_one() -> None:
    lines = [
        Rec("request finished", Level.INFO, fields={"err": None}),
        Rec("request finished", Level.ERROR, fields={"err": "ECONNREFUSED"}),
    ]
    assert stats_of(lines).detail == "err=ECONNREFUSED"


def test_sessions_from_block_ids() -> None:
    collector, _ = collect(
        [
            Rec("Receiving block blk_123 src: /10.0.0.1:50010", at=at(0)),
            Rec("Deleting block blk_-456 and blk_123 file /data/current", at=at(1)),
        ]
    )
    assert set(collector.sessions) == {"blk_123", "blk_-456"}
    trace = collector.sessions["blk_123"]
    assert len(trace.events) == 2
    assert (trace.first_seen, trace.last_seen) == (at(0), at(1))


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"trace_id": "t1"}, "trace_id=t1"),
        ({"request_id": "r1", "trace_id": "t1"}, "trace_id=t1"),
        ({"requestId": "r2"}, "requestId=r2"),
        ({"correlation_id": "c3"}, "correlation_id=c3"),
        ({"trace_id": "", "session_id": "s4"}, "session_id=s4"),
        ({"user_id": "u5"}, None),
    ],
)
def test_sessions_from_id_fields(fields: dict[str, object], key: str | None) -> None:
    collector, _ = collect([Rec("request done", fields=fields)])
    assert list(collector.sessions) == ([key] if key else [])


def test_block_ids_in_the_text_win_over_fields() -> None:
    collector, _ = collect([Rec("replicated blk_9 to peers", fields={"trace_id": "t9"})])
    assert list(collector.sessions) == ["blk_9"]


def test_session_caps() -> None:
    collector = StatsCollector(max_sessions=2, max_session_events=3)
    collect([Rec(f"served block blk_{i % 4}") for i in range(20)], collector=collector)
    assert set(collector.sessions) == {"blk_0", "blk_1"}
    assert collector.sessions_dropped == 10
    assert all(len(trace.events) == 3 for trace in collector.sessions.values())


def test_session_sequences_are_template_ids() -> None:
    collector, templates = collect(
        [
            Rec("Receiving block blk_1 src: /10.0.0.1:50010"),
            Rec("Received block blk_1 of size 512 from /10.0.0.1"),
            Rec("Deleting block blk_1 file /data/current"),
        ]
    )
    ((trace, sequence),) = list(collector.session_sequences(collector.template_ids()))
    assert trace.key == "blk_1"
    assert sequence == [t.template_id for t in templates]


MERGING = [f"session closed for tenant {name}" for name in ("alpha", "beta", "alpha", "gamma")]


def test_merged_clusters_fold_into_one_template() -> None:
    lines = [Rec(m, Level.WARNING, at=at(i), host=f"h{i}") for i, m in enumerate(MERGING)]
    lines += [
        Rec(f"session closed for tenant t{i}", Level.WARNING, at=at(10 + i)) for i in range(4)
    ]
    collector, templates = collect(lines)
    (stats,) = templates
    assert stats.count == len(lines)
    assert stats.levels == {Level.WARNING: len(lines)}
    assert (stats.first_seen, stats.last_seen) == (at(0), at(13))
    assert stats.hosts == {"h0": 1, "h1": 1, "h2": 1, "h3": 1}
    assert stats.first_index == 0
    assert len(stats.first_lines) == FIRST_LINES
    assert [ref.line_no for ref in stats.first_lines] == sorted(
        r.line_no for r in stats.first_lines
    )
    assert len(set(collector.template_ids())) >= 2
    assert set(collector.template_ids().values()) == {stats.template_id}


def test_template_ids_follow_merges_and_keep_unmerged_templates() -> None:
    lines = [Rec("service started on port 8080"), *(Rec(m) for m in MERGING)]
    collector, templates = collect(lines)
    assert set(collector.template_ids().values()) == {t.template_id for t in templates}
    assert len(templates) == 2


def _merging_errors() -> list[Rec]:
    """Ten lines of one cluster, ten of a second, then ten that merge both into one template."""
    lines = [Rec("job failed for tenant alpha", Level.ERROR, at=at(i)) for i in range(10)]
    lines += [Rec("job failed for tenant beta", Level.ERROR, at=at(10 + i)) for i in range(10)]
    lines += [Rec(f"job failed for tenant t{i}", Level.ERROR, at=at(20 + i)) for i in range(10)]
    return lines


def test_merged_template_keeps_the_latest_lines() -> None:
    (stats,) = collect(_merging_errors())[1]
    assert [ref.line_no for ref in stats.lines][-LAST_LINES:] == [28, 29, 30]


def test_merged_template_keeps_the_first_lines() -> None:
    lines = [Rec(m, Level.WARNING, at=at(i)) for i, m in enumerate(MERGING)]
    lines += [
        Rec(f"session closed for tenant t{i}", Level.WARNING, at=at(10 + i)) for i in range(4)
    ]
    (stats,) = collect(lines)[1]
    assert [ref.line_no for ref in stats.first_lines] == [1, 2, 3, 4, 5, 6]


def test_collector_fed_directly_by_the_miner() -> None:
    miner = TemplateMiner()
    collector = StatsCollector()
    for record in records([Rec("order 1 shipped"), Rec("order 2 shipped")]):
        collector.observe(record, mine_record(miner, record))
    (stats,) = collector.finish()
    assert stats.count == 2
    assert stats.template_id == miner.clusters[0].resolve().template_id


MESSAGES = [
    "order {n} shipped",
    "payment for order {n} declined",
    "session closed for tenant {w}",
    "cache warmed in {n} ms",
    "worker {w} restarted",
]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(MESSAGES),
            st.integers(0, 50),
            st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"]),
            st.sampled_from([Level.INFO, Level.WARNING, Level.ERROR, Level.UNKNOWN]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_totals_are_kept_whatever_the_input(
    items: list[tuple[str, int, str, Level]],
) -> None:
    lines = [
        Rec(template.format(n=n, w=w), level, at=at(i))
        for i, (template, n, w, level) in enumerate(items)
    ]
    collector, templates = collect(lines)
    assert sum(t.count for t in templates) == len(lines) == collector.records
    for t in templates:
        assert sum(t.levels.values()) == t.count
        assert sum(t.minutes.values()) == t.count
        assert sum(t.sources.values()) == t.count
        kept = [(ref.source, ref.line_no) for ref in t.lines]
        assert len(kept) == len(set(kept)) <= FIRST_LINES + LAST_LINES
    assert len({t.template_id for t in templates}) == len(templates)
    assert set(collector.template_ids().values()) == {t.template_id for t in templates}
