"""The orchestrator: routing blends the classifier with each fixer's own confidence, a close
runner-up gives a second opinion, a failing fixer never stops the analysis, a fixer may raise
an incident's severity, and the result comes back ranked.

The fixers here are small fakes that implement the ``Fixer`` protocol (the protocol is the
unit under test); the classifier runs for real on a tiny weights file, so its scores are known.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from core_helpers import incident, kb_of
from loguru import logger

from aiops_copilot.agents.base import Fixer, FixerContext, fixers
from aiops_copilot.agents.classifier import ClassifierModel, load_weights
from aiops_copilot.agents.orchestrator import (
    CLASSIFIER_WEIGHT,
    SECOND_OPINION_MARGIN,
    diagnose_all,
    merge,
    route,
)
from aiops_copilot.models import Diagnosis, Domain, Hypothesis, HypothesisStatus, Incident, Severity

KB = kb_of([])


@dataclass
class FakeFixer:
    """A fixer that answers what it is told to and remembers what it was asked."""

    domain: Domain
    name: str = ""
    handle: float = 0.0
    fail: bool = False
    fail_can_handle: bool = False
    severity: Severity | None = None
    severity_reason: str | None = None
    hypotheses: tuple[tuple[str, float], ...] = ()
    diagnosed: list[str] = field(default_factory=list)
    contexts: list[FixerContext] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or f"fake-{self.domain.value}"

    def can_handle(self, incident: Incident) -> float:
        if self.fail_can_handle:
            raise RuntimeError("can_handle exploded")
        return self.handle

    def diagnose(self, incident: Incident, context: FixerContext) -> Diagnosis:
        self.diagnosed.append(incident.id)
        self.contexts.append(context)
        if self.fail:
            raise KeyError("missing fact")
        return Diagnosis(
            agent=self.name,
            title=f"{self.name} title",
            root_cause=f"{self.name} root cause",
            confidence=0.7,
            hypotheses=[
                Hypothesis(cause, HypothesisStatus.POSSIBLE, "because", score=score)
                for cause, score in self.hypotheses
            ],
            remediation=[f"{self.name} step {i}" for i in range(3)],
            commands=[f"{self.name} cmd {i}" for i in range(3)],
            references=[f"https://example.org/{self.name}", "https://example.org/shared"],
            severity=self.severity,
            severity_reason=self.severity_reason,
        )


@pytest.fixture
def model(tmp_path: Path) -> ClassifierModel:
    """'dbword' weighs 3 for database, 'netword' 1 for network, 'secword' 1 for security."""
    path = tmp_path / "weights.yaml"
    path.write_text(
        "keywords:\n"
        "  database: [{pattern: dbword, weight: 3}]\n"
        "  network: [{pattern: netword, weight: 1}]\n"
        "  security: [{pattern: secword, weight: 1}]\n"
        "signature_weight: {critical: 5, high: 5, medium: 4, low: 3, info: 1}\n",
        encoding="utf-8",
    )
    return load_weights(path)


@pytest.fixture
def logged() -> Iterator[list[str]]:
    messages: list[str] = []
    handler = logger.add(lambda m: messages.append(m.record["message"]), level="WARNING")
    yield messages
    logger.remove(handler)


def _agents(*fakes: FakeFixer) -> dict[Domain, Fixer]:
    return {fake.domain: fake for fake in fakes}


def test_fakes_implement_the_protocol() -> None:
    assert isinstance(FakeFixer(Domain.DATABASE), Fixer)


def test_route_blends_classifier_and_can_handle(model: ClassifierModel) -> None:
    """Classifier: database 0.75, network 0.25. The network fixer is sure, the database one
    is not: 0.6 * 0.25 + 0.4 * 1.0 = 0.55 beats 0.6 * 0.75 = 0.45."""
    found = incident(["dbword netword"])
    diagnose_all([found], KB, agents={}, model=model)
    agents = _agents(FakeFixer(Domain.DATABASE, handle=0.0), FakeFixer(Domain.NETWORK, handle=1.0))
    ranked = route(found, agents)
    assert ranked[:2] == [(Domain.NETWORK, 0.55), (Domain.DATABASE, 0.45)]
    assert [d for d, _ in ranked[2:]] == sorted(
        [Domain.APPLICATION, Domain.INFRASTRUCTURE, Domain.INTEGRATION, Domain.SECURITY],
        key=lambda d: d.value,
    )
    assert CLASSIFIER_WEIGHT == 0.6


@pytest.mark.parametrize(("handle", "expected"), [(7.0, 0.85), (-3.0, 0.45)])
def test_can_handle_is_clamped(model: ClassifierModel, handle: float, expected: float) -> None:
    found = incident(["dbword netword"])
    diagnose_all([found], KB, agents={}, model=model)
    ranked = dict(route(found, _agents(FakeFixer(Domain.DATABASE, handle=handle))))
    assert ranked[Domain.DATABASE] == expected


def test_can_handle_failure_counts_as_zero(model: ClassifierModel, logged: list[str]) -> None:
    found = incident(["dbword netword"])
    diagnose_all([found], KB, agents={}, model=model)
    ranked = dict(route(found, _agents(FakeFixer(Domain.DATABASE, fail_can_handle=True))))
    assert ranked[Domain.DATABASE] == 0.45
    assert any("can_handle failed" in m and "can_handle exploded" in m for m in logged)


def test_top_fixer_diagnoses_with_the_run_context(model: ClassifierModel) -> None:
    database, network = FakeFixer(Domain.DATABASE), FakeFixer(Domain.NETWORK)
    first = incident(["dbword"], incident_id="INC-a")
    second = incident(["dbword"], incident_id="INC-b")
    diagnose_all([first, second], KB, agents=_agents(database, network), model=model)
    assert database.diagnosed == ["INC-a", "INC-b"]
    assert network.diagnosed == []
    assert first.diagnosis is not None and first.diagnosis.agent == "fake-database"
    assert first.diagnosis.second_opinion is None
    context = database.contexts[0]
    assert context.kb is KB
    assert set(context.incidents) == {"INC-a", "INC-b"}


def test_close_runner_up_gives_a_second_opinion(model: ClassifierModel) -> None:
    """Database 0.45 vs network 0.15 + 0.4 * 0.8 = 0.47: within the margin."""
    database = FakeFixer(
        Domain.DATABASE, hypotheses=(("pool too small", 0.6), ("shared cause", 0.5))
    )
    network = FakeFixer(
        Domain.NETWORK, handle=0.8, hypotheses=(("shared cause", 0.9), ("link flapping", 0.7))
    )
    found = incident(["dbword netword"])
    (result,) = diagnose_all([found], KB, agents=_agents(database, network), model=model)
    assert network.diagnosed == [found.id] and database.diagnosed == [found.id]
    diagnosis = result.diagnosis
    assert diagnosis is not None
    assert diagnosis.agent == "fake-network"
    assert diagnosis.second_opinion == "fake-database: fake-database root cause"
    assert [(h.cause, h.score) for h in diagnosis.hypotheses] == [
        ("shared cause", 0.9),
        ("link flapping", 0.7),
        ("pool too small", 0.6),
    ]
    assert diagnosis.remediation == [
        *(f"fake-network step {i}" for i in range(3)),
        "fake-database step 0",
        "fake-database step 1",
    ]
    assert diagnosis.commands[-2:] == ["fake-database cmd 0", "fake-database cmd 1"]
    assert diagnosis.references == [
        "https://example.org/fake-network",
        "https://example.org/shared",
        "https://example.org/fake-database",
    ]


def test_distant_runner_up_is_not_asked(model: ClassifierModel) -> None:
    database, network = FakeFixer(Domain.DATABASE), FakeFixer(Domain.NETWORK)
    found = incident(["dbword netword"])
    diagnose_all([found], KB, agents=_agents(database, network), model=model)
    assert SECOND_OPINION_MARGIN < 0.45 - 0.15
    assert network.diagnosed == []
    assert found.diagnosis is not None and found.diagnosis.second_opinion is None


def test_failing_fixer_leaves_no_diagnosis_and_the_run_goes_on(
    model: ClassifierModel, logged: list[str]
) -> None:
    broken = FakeFixer(Domain.DATABASE, fail=True)
    fine = FakeFixer(Domain.SECURITY)
    bad = incident(["dbword"], incident_id="INC-bad")
    good = incident(["secword"], incident_id="INC-good")
    result = diagnose_all([bad, good], KB, agents=_agents(broken, fine), model=model)
    assert {i.id for i in result} == {"INC-bad", "INC-good"}
    assert bad.diagnosis is None
    assert bad.classification is not None and bad.classification.top is Domain.DATABASE
    assert good.diagnosis is not None and good.diagnosis.agent == "fake-security"
    assert any(
        "fake-database: diagnosis failed on INC-bad" in m and "missing fact" in m for m in logged
    )


def test_failing_second_opinion_keeps_the_first(model: ClassifierModel) -> None:
    """Database 0.45, network 0.15 + 0.4 * 0.6 = 0.39: close enough to be asked, and it fails."""
    database = FakeFixer(Domain.DATABASE)
    network = FakeFixer(Domain.NETWORK, handle=0.6, fail=True)
    found = incident(["dbword netword"])
    diagnose_all([found], KB, agents=_agents(database, network), model=model)
    assert network.diagnosed == [found.id]
    assert found.diagnosis is not None
    assert found.diagnosis.agent == "fake-database"
    assert found.diagnosis.second_opinion is None


def test_winner_without_a_fixer_gives_no_diagnosis(model: ClassifierModel) -> None:
    found = incident(["dbword"])
    diagnose_all([found], KB, agents=_agents(FakeFixer(Domain.SECURITY)), model=model)
    assert found.diagnosis is None


def test_no_agents_classifies_only(model: ClassifierModel) -> None:
    found = incident(["dbword"])
    diagnose_all([found], KB, agents={}, model=model)
    assert found.classification is not None
    assert found.diagnosis is None


@pytest.mark.parametrize(
    ("start", "raised", "reason", "end", "note"),
    [
        (
            Severity.MEDIUM,
            Severity.CRITICAL,
            "a login succeeded after the brute force",
            Severity.CRITICAL,
            "severity raised from medium to critical by fake-database: "
            "a login succeeded after the brute force",
        ),
        (
            Severity.LOW,
            Severity.HIGH,
            None,
            Severity.HIGH,
            "severity raised from low to high by fake-database: its evidence",
        ),
        (Severity.HIGH, Severity.MEDIUM, "milder", Severity.HIGH, None),
        (Severity.HIGH, None, None, Severity.HIGH, None),
    ],
)
def test_diagnosis_may_raise_the_severity_never_lower_it(
    model: ClassifierModel,
    start: Severity,
    raised: Severity | None,
    reason: str | None,
    end: Severity,
    note: str | None,
) -> None:
    fixer = FakeFixer(Domain.DATABASE, severity=raised, severity_reason=reason)
    found = incident(["dbword"], severity=start)
    found.grouped_because = ["same template on app.log"]
    diagnose_all([found], KB, agents=_agents(fixer), model=model)
    assert found.severity is end
    expected = ["same template on app.log"] + ([note] if note else [])
    assert found.grouped_because == expected


def test_result_is_ranked_after_severities_are_raised(model: ClassifierModel) -> None:
    quiet = incident(["dbword"], incident_id="INC-quiet", severity=Severity.MEDIUM)
    loud = incident(["secword"], incident_id="INC-loud", severity=Severity.HIGH)
    agents = _agents(
        FakeFixer(Domain.DATABASE, severity=Severity.CRITICAL), FakeFixer(Domain.SECURITY)
    )
    result = diagnose_all([loud, quiet], KB, agents=agents, model=model)
    assert [i.id for i in result] == ["INC-quiet", "INC-loud"]


def test_merge_keeps_the_primary_and_notes_the_runner_up() -> None:
    primary = FakeFixer(Domain.DATABASE, hypotheses=(("a", 0.2),)).diagnose(
        incident(["x"]), FixerContext(kb=KB)
    )
    second = FakeFixer(Domain.NETWORK, hypotheses=(("b", 0.9), ("a", 0.95))).diagnose(
        incident(["x"]), FixerContext(kb=KB)
    )
    merged = merge(primary, second)
    assert merged is primary
    assert merged.agent == "fake-database"
    assert [(h.cause, h.score) for h in merged.hypotheses] == [("b", 0.9), ("a", 0.2)]


def test_the_registry_has_one_fixer_per_domain() -> None:
    registered = fixers()
    assert set(registered) == set(Domain)
    for domain, fixer in registered.items():
        assert isinstance(fixer, Fixer)
        assert fixer.domain is domain
