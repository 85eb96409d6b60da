"""Session anomaly detection on HDFS_100k: our session detector next to PCA and Invariant Mining.

Data: ``../shared/data/hdfs/hdfs_100k_sessions.csv`` (one row per HDFS block: label, train/test
split, its events E1..E19 in log order; see that folder's README). Every detector is fitted
without labels — on the whole train split (anomalies included, as a real log would be), and,
for comparison, on the train split's normal sessions only (the semi-supervised setting) — and
scored on the test split: precision, recall and F1 of the "anomalous block" verdict.

The ceiling (the data README's caveat, computed here on the test split): only 30 of the 57
test anomalies have event counts unlike every normal test block's (the others were cut off by
the 100k-line window before anything visibly went wrong), so a detector that sees only event
counts reaches at most recall 0.53 at precision 1, F1 0.69.

Usage: ``python bench/hdfs_sessions.py [--data DIR] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aiops_copilot.detect.sessions import SessionModel
from anomaly_baselines import InvariantMiner, PCADetector, count_matrix

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hdfs"
SESSIONS = "hdfs_100k_sessions.csv"


@dataclass(frozen=True)
class Session:
    key: str
    anomaly: bool
    split: str
    events: list[str]


def load(path: Path) -> list[Session]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Session(
                row["BlockId"],
                row["Label"] == "Anomaly",
                row["Split"],
                row["EventSequence"].split(),
            )
            for row in csv.DictReader(handle)
        ]


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: Sequence[bool], truth: Sequence[bool]) -> Score:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    return Score(tp, fp, fn)


Method = Callable[[list[list[str]], list[list[str]]], list[bool]]


def ours(fit: list[list[str]], test: list[list[str]]) -> list[bool]:
    model = SessionModel.fit(fit)
    return [bool(found) for found in model.check_all(test)]


def _events(*groups: list[list[str]]) -> list[str]:
    seen = {event for group in groups for sequence in group for event in sequence}
    return sorted(seen, key=lambda e: (len(e), e))


def pca(tf_idf: bool) -> Method:
    def run(fit: list[list[str]], test: list[list[str]]) -> list[bool]:
        events = _events(fit, test)
        detector = PCADetector(tf_idf=tf_idf).fit(count_matrix(fit, events))
        return [bool(x) for x in detector.predict(count_matrix(test, events))]

    return run


def invariant_mining(fit: list[list[str]], test: list[list[str]]) -> list[bool]:
    events = _events(fit, test)
    miner = InvariantMiner().fit(count_matrix(fit, events))
    return [bool(x) for x in miner.predict(count_matrix(test, events))]


METHODS: tuple[tuple[str, Method], ...] = (
    ("ours: session invariants + rare events (aiops_copilot.detect.sessions)", ours),
    ("PCA, event counts (Xu et al. 2009)", pca(tf_idf=False)),
    ("PCA, TF-IDF weighted (Xu et al. 2009)", pca(tf_idf=True)),
    ("Invariant Mining (Lou et al. 2010)", invariant_mining),
)


def run(sessions: list[Session]) -> list[dict[str, object]]:
    train = [s for s in sessions if s.split == "train"]
    test = [s for s in sessions if s.split == "test"]
    truth = [s.anomaly for s in test]
    test_events = [s.events for s in test]
    fits = (
        ("train split, unlabelled", [s.events for s in train]),
        ("train split, normal only", [s.events for s in train if not s.anomaly]),
        ("test split itself", test_events),
    )
    rows: list[dict[str, object]] = []
    for method, function in METHODS:
        for fit_name, fit in fits:
            started = time.perf_counter()
            found = score(function(fit, test_events), truth)
            rows.append(
                {
                    "method": method,
                    "fit": fit_name,
                    "fit_sessions": len(fit),
                    "precision": round(found.precision, 3),
                    "recall": round(found.recall, 3),
                    "f1": round(found.f1, 3),
                    "tp": found.tp,
                    "fp": found.fp,
                    "fn": found.fn,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
    return rows


def ceiling(sessions: list[Session]) -> tuple[int, int, int]:
    """Test anomalies whose event counts differ from every test normal block's (the most any
    count-based detector can flag without a false alarm), those whose *sequence* does, and
    all test anomalies."""
    test = [s for s in sessions if s.split == "test"]
    counts = {_shape(s.events) for s in test if not s.anomaly}
    orders = {tuple(s.events) for s in test if not s.anomaly}
    anomalies = [s for s in test if s.anomaly]
    by_counts = sum(_shape(s.events) not in counts for s in anomalies)
    by_order = sum(tuple(s.events) not in orders for s in anomalies)
    return by_counts, by_order, len(anomalies)


def _shape(events: list[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(_counts(events).items()))


def _counts(events: list[str]) -> dict[str, int]:
    result: dict[str, int] = {}
    for event in events:
        result[event] = result.get(event, 0) + 1
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    path = args.data / SESSIONS
    if not path.is_file():
        print(f"benchmark data not found: {path}", file=sys.stderr)
        return 2
    sessions = load(path)
    rows = run(sessions)
    by_counts, by_order, anomalies = ceiling(sessions)
    print(json.dumps(rows, indent=2))
    if args.write:
        from bench_doc import markdown_table, update_section

        test = [s for s in sessions if s.split == "test"]

        def best_f1(found: int) -> str:
            recall = found / anomalies
            return f"{2 * recall / (1 + recall):.3f}"

        text = [
            f"HDFS_100k block sessions (`../shared/data/hdfs`, {len(sessions):,} blocks, events "
            f"E1..E19); verdicts on the {len(test):,} test blocks ({anomalies} anomalous). No "
            "method sees labels: each is fitted on the unlabelled train split (anomalies "
            "included, as a real log would be), on its normal blocks only (semi-supervised), or "
            "on the test split itself (what `aiops analyze` does without `--baseline`). "
            f"Ceiling: only {by_counts} of the {anomalies} test anomalies have event counts unlike "
            f"every normal test block's ({by_order} by event order), so a count-based detector "
            f"reaches at most F1 {best_f1(by_counts)} at precision 1 ({best_f1(by_order)} with "
            "order): the 100k-line window cut most anomalous blocks off before anything visibly "
            "went wrong (see the data's README). Ours: pairwise count invariants holding in "
            "98 % of sessions, events in at most 1 % of sessions, unusual endings. "
            "PCA: 95 % variance, Q-statistic at alpha 0.001 (with TF-IDF it reproduces the "
            "README's 0.31). Invariant Mining: integer "
            "invariants over up to 3 events holding in 98 % of sessions. numpy "
            f"{np.__version__}. Command: `python bench/hdfs_sessions.py --write "
            "docs/benchmarks.md`.",
            "",
            *markdown_table(
                ("method", "fitted on", "precision", "recall", "F1", "TP / FP / FN", "seconds"),
                (
                    (
                        r["method"],
                        r["fit"],
                        f"{r['precision']:.3f}",
                        f"{r['recall']:.3f}",
                        f"**{r['f1']:.3f}**"
                        if r["fit"] == "train split, unlabelled"
                        else f"{r['f1']:.3f}",
                        f"{r['tp']} / {r['fp']} / {r['fn']}",
                        f"{r['seconds']:.3f}",
                    )
                    for r in rows
                ),
            ),
        ]
        update_section(args.write, "hdfs_sessions", "\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
