"""The shape every per-fixer test file shares: a table of hand-written cases and the eval fixtures.

A :class:`Case` is a few log lines as a human would paste them, with what the fixer must get
from them: the problem it recognises, facts it extracts, phrases its root cause must contain,
and the hypothesis it must find supported (or ruled out). Keeping the checks here keeps each
``test_fixer_<domain>.py`` a table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixer_helpers import (
    context,
    eval_cases,
    expected_keywords,
    incident_from_lines,
    incident_from_logs,
    missing_keywords,
)

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Diagnosis, Domain, HypothesisStatus, Incident


@dataclass(frozen=True)
class Case:
    name: str
    lines: list[str]
    problem: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    says: list[str] = field(default_factory=list)
    supported: str | None = None
    ruled_out: str | None = None
    counts: list[int] | None = None
    formats: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def incident(self) -> Incident:
        return incident_from_lines(
            self.lines, counts=self.counts, formats=self.formats, services=self.services
        )


def diagnose(domain: Domain, incident: Incident) -> Diagnosis:
    return fixers()[domain].diagnose(incident, context())


def check_case(domain: Domain, case: Case) -> Diagnosis:
    diagnosis = diagnose(domain, case.incident())
    assert diagnosis.facts.get("problem") == case.problem, diagnosis.facts
    for name, value in case.facts.items():
        assert diagnosis.facts.get(name) == value, (name, diagnosis.facts.get(name))
    text = f"{diagnosis.title}\n{diagnosis.root_cause}".lower()
    for phrase in case.says:
        assert phrase.lower() in text, (phrase, diagnosis.root_cause)
    if case.supported is not None:
        top = diagnosis.hypotheses[0]
        assert top.status == HypothesisStatus.SUPPORTED, diagnosis.hypotheses
        assert case.supported.lower() in top.cause.lower(), top.cause
    if case.ruled_out is not None:
        out = [h for h in diagnosis.hypotheses if case.ruled_out.lower() in h.cause.lower()]
        assert out and out[0].status == HypothesisStatus.RULED_OUT, diagnosis.hypotheses
    assert diagnosis.evidence, "a diagnosis cites its evidence"
    return diagnosis


def eval_params(domain: Domain) -> list[Path]:
    return eval_cases(domain.value)


def check_eval_case(domain: Domain, case: Path) -> Diagnosis:
    """The fixer's root cause names the concepts the fixture's author listed."""
    diagnosis = diagnose(domain, incident_from_logs(case / "logs"))
    missing = missing_keywords(diagnosis, expected_keywords(case))
    assert not missing, f"{case.name}: missing {missing}\n{diagnosis.title}\n{diagnosis.root_cause}"
    assert diagnosis.confidence >= 0.5
    assert diagnosis.remediation and diagnosis.evidence
    return diagnosis
