"""Novelty: new and rare templates against the earlier input or a baseline."""

from __future__ import annotations

import pytest
from detect_helpers import Line, at, by_template, mine
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect.baseline import Baseline, peak_window
from aiops_copilot.detect.novelty import NoveltyConfig, detect_novelty, novelty_signals
from aiops_copilot.models import Level, Severity, SignalKind
from aiops_copilot.parsing.miner import TemplateMiner

ROUTINE = "request {n} served in {n} ms"


def routine(count: int, start: int = 0, source: str = "app.log") -> list[Line]:
    return [
        Line(ROUTINE.format(n=i), at=at((start + i) / 10), source=source)
        for i in range(start, start + count)
    ]


def with_late(message: str, level: Level, *, before: int = 800, after: int = 200) -> list[Line]:
    """``before`` routine lines, the new line, then ``after`` more routine lines."""
    lines = routine(before)
    lines.append(Line(message, level, at=at(before / 10)))
    lines.extend(routine(after, start=before + 1))
    return lines


@pytest.mark.parametrize(
    ("level", "severity", "alerting"),
    [
        (Level.ERROR, Severity.MEDIUM, True),
        (Level.WARNING, Severity.LOW, False),
        (Level.INFO, Severity.INFO, False),
        (Level.DEBUG, Severity.INFO, False),
    ],
)
def test_new_template_late_in_the_input(level: Level, severity: Severity, alerting: bool) -> None:
    collector, templates = mine(with_late("disk quota exceeded on volume data", level))
    signals = detect_novelty(templates, collector)
    assert len(signals) == 1
    signal = signals[0]
    assert signal.kind is SignalKind.NOVELTY
    assert signal.template_id == by_template(templates, "quota").template_id
    assert signal.severity is severity
    assert (signal.score >= 0.35) is alerting
    assert "after 800 earlier records of app.log (80% of the way in)" in signal.reason
    assert "first seen at 2024-05-01 13:20:00" in signal.reason
    assert signal.count == 1


def test_debug_counts_less_than_info() -> None:
    scores = {}
    for level in (Level.INFO, Level.DEBUG):
        collector, templates = mine(with_late("cache warmed for shard alpha", level))
        scores[level] = detect_novelty(templates, collector)[0].score
    assert scores[Level.DEBUG] < scores[Level.INFO] <= 0.3


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (200, 800),  # within the first 30 %: the input's own baseline period
        (100, 50),  # too little history to call anything new
    ],
)
def test_no_novelty_without_enough_history(before: int, after: int) -> None:
    collector, templates = mine(
        with_late("disk quota exceeded", Level.ERROR, before=before, after=after)
    )
    assert detect_novelty(templates, collector) == []


def test_each_source_is_its_own_baseline() -> None:
    """A second file's templates are not new just because another file was read first."""
    lines = routine(500, source="a.log")
    other = [
        Line(f"job {i} finished with {i} rows", at=at(i / 10), source="b.log") for i in range(400)
    ]
    other.append(Line("job queue is full", Level.ERROR, at=at(41), source="b.log"))
    other.extend(
        Line(f"job {i} finished with {i} rows", at=at(42), source="b.log") for i in range(50)
    )
    collector, templates = mine([*lines, *other])
    signals = detect_novelty(templates, collector)
    assert [s.template_id for s in signals] == [by_template(templates, "queue").template_id]
    assert "after 400 earlier records of b.log" in signals[0].reason


def _baseline(lines: list[Line], miner: TemplateMiner) -> Baseline:
    collector, templates = mine(lines, miner)
    return Baseline.from_collector(collector, templates)


def test_baseline_mode_names_templates_never_seen_there() -> None:
    miner = TemplateMiner()
    baseline = _baseline(routine(1000), miner)
    assert baseline.records == 1000
    assert sum(baseline.known.values()) == 1000
    collector, templates = mine(
        [Line("disk quota exceeded", Level.ERROR, at=at(0)), *routine(50)], miner
    )
    signals = detect_novelty(templates, collector, baseline=baseline)
    assert len(signals) == 1
    assert signals[0].template_id == by_template(templates, "quota").template_id
    assert "never in the baseline (1,000 records)" in signals[0].reason
    assert signals[0].severity is Severity.MEDIUM


def test_baseline_follows_clusters_merged_afterwards() -> None:
    """alice and bob are two clusters in the baseline; carol makes the user a variable, and
    the merged template is still known."""
    miner = TemplateMiner()
    baseline = _baseline(
        [Line(f"session opened for user {name}") for name in ("alice", "bob") * 300], miner
    )
    assert len(baseline.known) == 2
    collector, templates = mine(
        [Line(f"session opened for user {name}") for name in ("carol", "dave", "alice")], miner
    )
    assert len(templates) == 1
    assert baseline.template_counts() == {templates[0].template_id: 600}
    assert detect_novelty(templates, collector, baseline=baseline) == []


def test_rare_in_baseline_and_now_frequent() -> None:
    miner = TemplateMiner()
    baseline = _baseline([*routine(5000), Line("connection pool exhausted", Level.WARNING)], miner)
    lines = [*routine(500), *(Line("connection pool exhausted", Level.WARNING) for _ in range(40))]
    collector, templates = mine(lines, miner)
    signals = detect_novelty(templates, collector, baseline=baseline)
    assert len(signals) == 1
    assert "rare in the baseline (1 of 5,001 records)" in signals[0].reason
    assert signals[0].severity is Severity.LOW


def test_baseline_without_records_falls_back_to_the_input() -> None:
    collector, templates = mine(with_late("disk quota exceeded", Level.ERROR))
    empty = Baseline(known={}, records=0)
    assert [s.reason for s in detect_novelty(templates, collector, baseline=empty)] == [
        s.reason for s in detect_novelty(templates, collector)
    ]


def test_baseline_by_hand_resolves_through_a_mapping() -> None:
    baseline = Baseline(known={7: 3, 8: 2}, records=5)
    assert baseline.template_counts({7: "Ta", 8: "Ta"}) == {"Ta": 5}
    assert baseline.template_counts() == {}


@pytest.mark.parametrize(
    ("minutes", "width", "expected"),
    [
        ({}, 5, 0),
        ({0: 3}, 5, 3),
        ({0: 1, 4: 1, 5: 1}, 5, 2),
        ({0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 10: 20}, 5, 20),
        ({0: 2, 1: 2, 2: 2}, 1, 2),
    ],
)
def test_peak_window(minutes: dict[int, int], width: int, expected: int) -> None:
    assert peak_window(minutes, width) == expected


@settings(max_examples=40, deadline=None)
@given(
    levels=st.lists(
        st.sampled_from([Level.DEBUG, Level.INFO, Level.WARNING, Level.ERROR]),
        min_size=1,
        max_size=6,
    ),
    before=st.integers(min_value=0, max_value=600),
)
def test_scores_stay_in_range_and_chatter_never_alerts(levels: list[Level], before: int) -> None:
    lines = routine(before)
    for index, level in enumerate(levels):
        lines.append(Line(f"event kind{index} happened", level, at=at(before / 10)))
    lines.extend(routine(100, start=before + 1))
    collector, templates = mine(lines)
    for signal in novelty_signals(templates, collector.records, config=NoveltyConfig()):
        assert 0.0 <= signal.score <= 1.0
        if signal.severity is Severity.INFO:
            assert signal.score < 0.35
