"""Loading the shipped Loghub-2k samples (tests/data/loghub2k, see its NOTICE)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
LOGHUB = DATA / "loghub2k"
DATASETS = sorted(p.name.removesuffix(".log") for p in LOGHUB.glob("*.log"))


@dataclass(frozen=True)
class Labelled:
    name: str
    raw_lines: list[str]
    contents: list[str]
    templates: list[str]


def load_labelled(name: str) -> Labelled:
    raw = (LOGHUB / f"{name}.log").read_text(encoding="utf-8").splitlines()
    with open(LOGHUB / f"{name}.labels.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return Labelled(
        name=name,
        raw_lines=raw[: len(rows)],
        contents=[r["Content"] for r in rows],
        templates=[r["EventTemplate"] for r in rows],
    )
