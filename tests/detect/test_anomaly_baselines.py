"""PCA and Invariant Mining (bench/anomaly_baselines.py) on small synthetic count matrices."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

from anomaly_baselines import (  # noqa: E402
    InvariantMiner,
    PCADetector,
    count_matrix,
    q_statistic,
)
from hdfs_sessions import Score, score  # noqa: E402

EVENTS = ["open", "read", "close", "error"]


def normal_sessions(n: int = 300) -> list[list[str]]:
    """Every session opens and closes once and reads 1..5 times; never an error."""
    return [["open", *(["read"] * (1 + i % 5)), "close"] for i in range(n)]


def test_count_matrix_counts_and_ignores_unknown_events() -> None:
    matrix = count_matrix([["open", "read", "read", "other"], []], EVENTS)
    assert matrix.tolist() == [[1, 2, 0, 0], [0, 0, 0, 0]]


def test_invariant_miner_finds_the_sparse_integer_invariants() -> None:
    miner = InvariantMiner().fit(count_matrix(normal_sessions(), EVENTS))
    found = {(tuple(EVENTS[c] for c in inv.columns), inv.weights) for inv in miner.invariants}
    assert (("error",), (1,)) in found  # never happens
    assert any(cols == ("open", "close") and abs(sum(w)) == 0 for cols, w in found)
    test = count_matrix(
        [["open", "read", "close"], ["open", "read"], ["open", "error", "close"]], EVENTS
    )
    assert miner.predict(test).tolist() == [False, True, True]


def test_pca_flags_sessions_off_the_normal_subspace() -> None:
    fit = count_matrix(normal_sessions(), EVENTS)
    detector = PCADetector().fit(fit)
    assert 1 <= detector.components < len(EVENTS)
    assert detector.threshold >= 0
    assert not detector.predict(fit).any()
    odd = count_matrix([["open", "read", "read", "read", "read", "read", "read", "read"]], EVENTS)
    assert detector.spe(odd)[0] > detector.threshold


def test_q_statistic_grows_with_the_residual_variance() -> None:
    small = q_statistic(np.array([0.1, 0.05, 0.01]), 3.2905)
    large = q_statistic(np.array([1.0, 0.5, 0.1]), 3.2905)
    assert 0 < small < large
    assert q_statistic(np.array([]), 3.2905) == 0.0


@pytest.mark.parametrize(
    ("predicted", "truth", "expected"),
    [
        ([True, False, True], [True, False, False], Score(1, 1, 0)),
        ([False, False], [True, True], Score(0, 0, 2)),
    ],
)
def test_score(predicted: list[bool], truth: list[bool], expected: Score) -> None:
    result = score(predicted, truth)
    assert result == expected
    assert 0.0 <= result.f1 <= 1.0
