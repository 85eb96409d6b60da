"""Bursts: a template's rate against its own history, in sliding windows."""

from __future__ import annotations

import pytest
from detect_helpers import Line, at, by_template, mine
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.bursts import (
    BurstConfig,
    burst_signals,
    detect_bursts,
    find_burst,
    median_and_mad,
)
from aiops_copilot.models import Level, Severity, SignalKind
from aiops_copilot.parsing.miner import TemplateMiner


def steady(rate: int, minutes: range) -> dict[int, int]:
    return {minute: rate for minute in minutes}


@pytest.mark.parametrize(
    ("values", "zeros", "median", "mad"),
    [
        ([], 0, 0.0, 0.0),
        ([], 5, 0.0, 0.0),
        ([1.0, 2.0, 3.0], 0, 2.0, 1.0),
        ([4.0], 3, 0.0, 0.0),
        ([2.0, 2.0], 2, 1.0, 1.0),
        ([1.0, 1.0, 1.0, 10.0], 0, 1.0, 0.0),
    ],
)
def test_median_and_mad(values: list[float], zeros: int, median: float, mad: float) -> None:
    assert median_and_mad(values, zeros) == (median, mad)


def test_a_jump_in_rate_is_a_burst() -> None:
    minutes = steady(2, range(60))
    minutes.update(steady(40, range(60, 65)))
    burst = find_burst(minutes, 0)
    assert burst is not None
    assert (burst.start, burst.end, burst.count) == (60, 65, 200)
    assert burst.median == 10.0
    assert burst.factor == 20.0
    assert burst.previous_peak == 10
    assert burst.per_minute == 40.0


@pytest.mark.parametrize(
    ("name", "minutes"),
    [
        ("one to three lines", {**steady(1, range(0, 60, 5)), 61: 3}),
        ("steady", steady(5, range(120))),
        ("hourly job of the same size", {m: 50 for m in (0, 60, 120, 180)}),
        ("a template with no history at all", {50: 80}),
        ("history too short", {0: 1, 6: 60}),
        ("noisy but not extreme", {m: (m % 7) + 2 for m in range(120)}),
    ],
)
def test_not_a_burst(name: str, minutes: dict[int, int]) -> None:
    assert find_burst(minutes, 0) is None, name


def test_a_burst_straddling_a_window_edge_is_seen_whole() -> None:
    minutes = {m: 1 for m in range(0, 40, 4)}
    minutes.update({43: 15, 45: 15})  # windows [40, 45) and [45, 50) would each see 15
    burst = find_burst(minutes, 0)
    assert burst is not None
    assert burst.count == 30


def test_baseline_rate_and_peak_are_history() -> None:
    minutes = {0: 60}
    assert find_burst(minutes, 0) is None  # no history in the input
    burst = find_burst(minutes, 0, expected_rate=1.0)
    assert burst is not None and burst.baseline == 5.0 and burst.factor == 12.0
    assert find_burst(minutes, 0, expected_rate=1.0, prior_peak=50) is None


def _lines(errors_per_minute: int = 30) -> list[Line]:
    lines = [Line(f"request {i} served", at=at(i / 4)) for i in range(400)]  # 4/min, 100 min
    lines += [
        Line(f"upstream 10.0.0.{i % 9} timed out", Level.ERROR, at=at(m))
        for m in range(0, 60, 10)
        for i in range(2)
    ]
    lines += [
        Line(f"upstream 10.0.0.{i % 9} timed out", Level.ERROR, at=at(70 + i / errors_per_minute))
        for i in range(errors_per_minute * 4)
    ]
    return sorted(lines, key=lambda line: line.at or at(0))


def test_pipeline_detector_reports_window_rate_and_factor() -> None:
    collector, templates = mine(_lines())
    signals = detect_bursts(templates, collector)
    assert [s.template_id for s in signals] == [by_template(templates, "timed out").template_id]
    signal = signals[0]
    assert signal.kind is SignalKind.BURST
    assert signal.severity is Severity.MEDIUM
    assert signal.score >= 0.6
    assert signal.count == 120
    assert "120 records in the 5 minutes from 2024-05-01 13:10 to 13:15 (24.0/min)" in signal.reason
    assert "120.0x the usual at most 1 per 5 minutes" in signal.reason
    assert signal.first_seen == at(70) and signal.last_seen == at(75)


def test_chatter_bursts_are_observations() -> None:
    lines = [Line(f"cache hit {i}", at=at(i)) for i in range(60)]
    lines += [Line(f"cache hit {i}", at=at(61 + i / 50)) for i in range(100)]
    collector, templates = mine(lines)
    signals = detect_bursts(templates, collector)
    assert len(signals) == 1
    assert signals[0].severity is Severity.INFO
    assert "sounds like chatter" in signals[0].reason


def test_no_timestamps_no_signal() -> None:
    collector, templates = mine([Line("upstream timed out", Level.ERROR)] * 500)
    assert detect_bursts(templates, collector) == []
    assert burst_signals(templates, None) == []


def test_baseline_rate_used_when_the_input_is_short() -> None:
    miner = TemplateMiner()
    base_lines = [Line(f"job {i} done", at=at(i)) for i in range(600)]  # 1/min for 10 hours
    base_collector, base_templates = mine(base_lines, miner)
    baseline = Baseline.from_collector(base_collector, base_templates)
    assert baseline.minutes == 600
    lines = [Line(f"job {i} done", at=at(1000 + i / 20)) for i in range(100)]  # 20/min
    collector, templates = mine(lines, miner)
    assert detect_bursts(templates, collector) == []  # no history in the input itself
    signals = detect_bursts(templates, collector, baseline=baseline)
    assert len(signals) == 1
    assert "baseline: 5.0" in signals[0].reason


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=600),
        st.integers(min_value=1, max_value=200),
        max_size=80,
    )
)
def test_any_burst_found_meets_every_threshold(minutes: dict[int, int]) -> None:
    config = BurstConfig()
    burst = find_burst(minutes, 0, config=config)
    if burst is not None:
        assert burst.count >= config.min_count
        assert burst.factor >= config.min_factor
        assert burst.count >= config.peak_margin * burst.previous_peak
        assert burst.end - burst.start == config.window_minutes
        assert burst.count == sum(n for m, n in minutes.items() if burst.start <= m < burst.end)


@settings(max_examples=30, deadline=None)
@given(rate=st.integers(min_value=1, max_value=500), length=st.integers(min_value=1, max_value=400))
def test_a_constant_rate_never_bursts(rate: int, length: int) -> None:
    assert find_burst(steady(rate, range(length)), 0) is None
