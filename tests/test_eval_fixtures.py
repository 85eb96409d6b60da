"""Every evaluation fixture is well-formed and every one of its log files is readable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.models import Domain

EVALS = Path(__file__).parent / "evals"
CASES = sorted(p.parent for p in EVALS.glob("*/*/expected.yaml"))


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: bool
    domain: Domain | None = None
    severity_at_least: Literal["critical", "high", "medium", "low"] | None = None
    root_cause_keywords: list[list[str]] = Field(default_factory=list)
    summary: str
    produced_by: str
    # Hold-out cases were made after the fixers and are never looked at while tuning them.
    holdout: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Expected:
        if self.incident:
            if self.domain is None or self.severity_at_least is None:
                raise ValueError("an incident case needs domain and severity_at_least")
            if not self.root_cause_keywords or not all(self.root_cause_keywords):
                raise ValueError("an incident case needs non-empty root_cause_keywords groups")
        elif self.domain is not None:
            raise ValueError("a clean case has no domain")
        return self


def test_there_are_cases() -> None:
    assert CASES, "no evaluation fixtures found"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_is_well_formed_and_readable(case: Path) -> None:
    expected = Expected.model_validate(yaml.safe_load((case / "expected.yaml").read_text()))
    folder = case.parent.name
    if folder == "clean":
        assert not expected.incident
    else:
        assert expected.incident and expected.domain == folder
    logs = case / "logs"
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert files, f"{case}: no log files"
    run = open_inputs([str(logs)])
    assert run.skipped == [], run.skipped
    records = sum(1 for _ in iter_records(run, ReadOptions()))
    assert records > 0
    for report in run.reports:
        assert report.stats.error is None, (report.source.name, report.stats.error)
        assert report.stats.invalid_utf8_lines == 0, report.source.name
