"""Runs the evaluation fixtures (tests/evals) through the real pipeline and scores them.

Used by ``tests/test_evals.py`` (with the quality gates) and by ``bench/evals.py`` (which prints
the per-case table). A case is analysed exactly as ``aiops analyze <case>/logs`` would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.models import AnalysisResult, Severity
from aiops_copilot.parsing.miner import TemplateMiner

EVALS = Path(__file__).parent / "evals"
logger.remove()


def cases() -> list[Path]:
    return sorted(p.parent for p in EVALS.glob("*/*/expected.yaml"))


@dataclass
class CaseResult:
    case: str
    expected: dict[str, Any]
    result: AnalysisResult
    detected: bool
    domain_ok: bool
    diagnosis_ok: bool
    got_domain: str | None
    got_severity: str | None
    root_cause: str

    @property
    def is_clean(self) -> bool:
        return not self.expected["incident"]


def analyse_case(case: Path, kb: KnowledgeBase) -> AnalysisResult:
    run = open_inputs([str(case / "logs")])
    records = iter_records(run, ReadOptions())
    return analyze(
        run, records, TemplateMiner(), kb, AnalysisOptions(detectors=default_detectors())
    )


def run_case(case: Path, kb: KnowledgeBase | None = None) -> CaseResult:
    expected = yaml.safe_load((case / "expected.yaml").read_text())
    result = analyse_case(case, kb or load_knowledge())
    top = result.incidents[0] if result.incidents else None
    got_domain = None
    root_cause = ""
    if top is not None:
        if top.diagnosis is not None:
            got_domain = top.diagnosis.agent.split("-")[0]
            root_cause = f"{top.diagnosis.title}\n{top.diagnosis.root_cause}"
        elif top.classification is not None:
            got_domain = top.classification.top.value
    name = f"{case.parent.name}/{case.name}"
    if not expected["incident"]:
        return CaseResult(
            name,
            expected,
            result,
            bool(result.incidents),
            True,
            True,
            got_domain,
            top.severity.value if top else None,
            root_cause,
        )
    floor = Severity(expected["severity_at_least"]).rank
    detected = top is not None and top.severity.rank >= floor
    lowered = root_cause.lower()
    diagnosis_ok = detected and all(
        any(phrase.lower() in lowered for phrase in group)
        for group in expected["root_cause_keywords"]
    )
    return CaseResult(
        name,
        expected,
        result,
        detected,
        detected and got_domain == expected["domain"],
        diagnosis_ok,
        got_domain,
        top.severity.value if top else None,
        root_cause,
    )
