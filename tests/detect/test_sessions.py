"""Sessions that break their usual event sequence: the pure model and the pipeline wrapper."""

from __future__ import annotations

import pytest
from detect_helpers import Line, at, by_template, mine
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.sessions import (
    Invariant,
    SessionConfig,
    SessionModel,
    ViolationKind,
    culprit,
    detect_sessions,
    find_broken_sessions,
)
from aiops_copilot.models import Level, Severity, SignalKind
from aiops_copilot.parsing.miner import TemplateMiner

NORMAL = ["open", "read", "read", "close"]


def kinds(violations: list) -> set[ViolationKind]:  # type: ignore[type-arg]
    return {v.kind for v in violations}


def test_learns_count_invariants() -> None:
    model = SessionModel.fit([NORMAL] * 50 + [["open", "read", "close"]] * 50)
    pairs = {
        (frozenset((inv.left, inv.right)), inv.left_times, inv.right_times)
        for inv in model.invariants
    }
    assert (frozenset(("open", "close")), 1, 1) in pairs
    # read occurs once or twice per open: no invariant between them
    assert not any({inv.left, inv.right} == {"open", "read"} for inv in model.invariants)


@pytest.mark.parametrize(
    ("session", "expected", "event"),
    [
        (NORMAL, set(), None),
        # stopped after reading: attributed to where it stopped
        (["open", "read", "read"], {ViolationKind.INVARIANT, ViolationKind.TERMINAL}, "read"),
        (["open", "read", "close", "close"], {ViolationKind.INVARIANT}, "close"),
        (["open", "read", "timeout", "read", "close"], {ViolationKind.UNSEEN}, "timeout"),
        (["open", "retry", "read", "read", "close"], {ViolationKind.RARE}, "retry"),
    ],
)
def test_check_names_the_broken_rule(
    session: list[str], expected: set[ViolationKind], event: str | None
) -> None:
    fit = [NORMAL] * 299 + [["open", "retry", "read", "read", "close"]]
    violations = SessionModel.fit(fit).check(session)
    assert kinds(violations) == expected
    if event is not None:
        assert culprit(violations, session) == event


def test_unusual_ending_alone() -> None:
    fit = [["a", "b"]] * 999 + [["b", "a"]]
    found = find_broken_sessions([["a", "b"], ["b", "a"]], fit=fit)
    assert found[0] == []
    assert kinds(found[1]) == {ViolationKind.TERMINAL}
    assert found[1][0].describe() == "ended on a, which ends only 0.1% of 1,000 sessions"


def test_describe_invariant_with_names() -> None:
    model = SessionModel.fit([["alloc", "recv", "recv", "recv"]] * 100)
    violation = next(v for v in model.check(["alloc", "recv"]) if v.invariant is not None)
    text = violation.describe(lambda e: f"<{e}>")
    assert text == (
        "<alloc> x1 against <recv> x1, while <recv> occurs 3 times per <alloc> "
        "in 100.0% of 100 sessions"
    )


@pytest.mark.parametrize(
    ("invariant", "text"),
    [
        (Invariant("a", "b", 1, 1, 1.0, 10), "a and b occur equally often"),
        (Invariant("a", "b", 1, 3, 1.0, 10), "a occurs 3 times per b"),
        (Invariant("a", "b", 2, 1, 1.0, 10), "b occurs 2 times per a"),
        (Invariant("a", "b", 2, 3, 1.0, 10), "a and b occur in the ratio 3:2"),
    ],
)
def test_invariant_relation_words(invariant: Invariant, text: str) -> None:
    assert invariant.relation() == text
    assert invariant.kept_by({"a": invariant.right_times, "b": invariant.left_times})


@pytest.mark.parametrize(
    "sequences",
    [
        [NORMAL] * 29,  # too few sessions
        [["x"], ["y"], ["z"]] * 40,  # single events: no sequence to break
        [],
    ],
)
def test_unusable_models_stay_silent(sequences: list[list[str]]) -> None:
    sessions = [*sequences, ["open", "boom"]]
    assert all(found == [] for found in find_broken_sessions(sessions))


def test_fits_on_itself_without_a_baseline() -> None:
    sessions = [NORMAL] * 200 + [["open", "read"]]
    assert find_broken_sessions(sessions) == find_broken_sessions(sessions, fit=sessions)
    assert [bool(v) for v in find_broken_sessions(sessions)] == [False] * 200 + [True]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=6),
        min_size=30,
        max_size=120,
    )
)
def test_check_all_agrees_with_check(sessions: list[list[str]]) -> None:
    model = SessionModel.fit(sessions, SessionConfig(min_support=5))
    assert model.check_all(sessions) == [model.check(s) for s in sessions]
    for found in model.check_all(sessions):
        for violation in found:
            assert 0.0 <= violation.strength <= 1.0


# -- the pipeline wrapper ---------------------------------------------------------------------


def block_lines(block: int, minute: float, *, complete: bool = True) -> list[Line]:
    blk = f"blk_{1000 + block}"
    lines = [
        Line(f"allocateBlock: /data/part-{block} {blk}", at=at(minute)),
        *(
            Line(f"Receiving block {blk} src: /10.0.0.{r}:500 dest: /10.0.0.{r}:501", at=at(minute))
            for r in range(3)
        ),
    ]
    if complete:
        lines.append(
            Line(f"addStoredBlock: blockMap updated: {blk} size 67108864", at=at(minute + 0.5))
        )
    return lines


def hdfs_like(broken: tuple[int, ...] = (), total: int = 240) -> list[Line]:
    lines: list[Line] = []
    for block in range(total):
        lines.extend(block_lines(block, block / 2, complete=block not in broken))
    return lines


def test_broken_sessions_become_a_signal_with_examples() -> None:
    collector, templates = mine(hdfs_like(broken=(50, 51, 52)))
    signals = detect_sessions(templates, collector)
    assert len(signals) == 1
    signal = signals[0]
    assert signal.kind is SignalKind.SESSION
    assert signal.count == 3
    assert signal.template_id == by_template(templates, "Receiving").template_id
    assert signal.reason.startswith("3 of 240 sessions broke their usual sequence")
    assert "blk_1050, blk_1051, blk_1052" in signal.reason
    assert "occur equally often" in signal.reason or "times per" in signal.reason
    assert signal.severity is Severity.LOW
    assert signal.first_seen == at(25)


def test_sessions_cut_by_the_end_of_the_input_are_not_broken() -> None:
    collector, templates = mine(hdfs_like(broken=(239,)))
    assert detect_sessions(templates, collector) == []


def test_rare_error_event_is_the_culprit() -> None:
    lines = hdfs_like()
    lines.insert(
        400,
        Line("writeBlock blk_1080 received exception java.io.IOException", Level.ERROR, at=at(40)),
    )
    collector, templates = mine(lines)
    signals = detect_sessions(templates, collector)
    assert [s.template_id for s in signals] == [by_template(templates, "writeBlock").template_id]
    assert signals[0].severity is Severity.MEDIUM
    assert "occurs in only 0.4% of 240 sessions" in signals[0].reason


def test_fits_on_the_baseline_sessions_when_given() -> None:
    miner = TemplateMiner()
    base_collector, base_templates = mine(hdfs_like(total=100), miner)
    baseline = Baseline.from_collector(base_collector, base_templates)
    assert len(baseline.sessions) == 100
    # Every session of the input is broken the same way: only the baseline can tell.
    lines = [
        line for block in range(40) for line in block_lines(500 + block, block, complete=False)
    ]
    lines += block_lines(999, 60)  # one complete block at the end keeps the others closed
    collector, templates = mine(lines, miner)
    assert detect_sessions(templates, collector) == []
    signals = detect_sessions(templates, collector, baseline=baseline)
    # 38: the first two blocks began within a minute of the input's start and may be cut by it
    assert len(signals) == 1 and signals[0].count == 38


def test_sessions_cut_by_the_collectors_cap_are_not_broken() -> None:
    lines = hdfs_like(broken=(50,))
    blk = "blk_1100"
    lines += [
        Line(f"Receiving block {blk} src: /10.0.0.1:500 dest: /10.0.0.2:501", at=at(50))
    ] * 600
    collector, templates = mine(sorted(lines, key=lambda line: line.at or at(0)))
    assert len(collector.sessions[blk].events) == 500
    signals = detect_sessions(templates, collector)
    assert [s.count for s in signals] == [1]
    assert blk not in signals[0].reason and "blk_1050" in signals[0].reason
