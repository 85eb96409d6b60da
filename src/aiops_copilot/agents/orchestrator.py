"""The orchestrator agent: classify each incident, route it to the best fixer, merge, rank.

Routing blends the classifier's score with the fixer's own ``can_handle`` (the fixer looks at
its evidence: a database fixer that finds an engine and a SQLSTATE is surer than a keyword).
When the runner-up is close, it diagnoses too and its view is kept as a second opinion, with
its hypotheses folded into the ranked list, so an ambiguous incident shows both readings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from loguru import logger

from aiops_copilot.agents.base import Fixer, FixerContext, MemoryLookup, fixers
from aiops_copilot.agents.classifier import ClassifierModel, classify
from aiops_copilot.agents.fixers.engine import recall
from aiops_copilot.incidents import rank
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.knowledge.needles import save as save_needles
from aiops_copilot.learning import LearnedRules
from aiops_copilot.models import Diagnosis, Domain, Incident

#: Weight of the classifier against the fixer's own confidence when routing.
CLASSIFIER_WEIGHT = 0.6
#: A runner-up within this margin of the winner also diagnoses.
SECOND_OPINION_MARGIN = 0.12


class DiagnosisAssistant(Protocol):
    """Something that may refine finished diagnoses in place (the optional LLM, ``llm/``).

    It runs after every fixer, on the ranked incidents, and never raises; it may change a
    diagnosis' text, never an incident's severity, grouping or routing."""

    def refine(self, incidents: Sequence[Incident], kb: KnowledgeBase) -> Any: ...

    def summary(self) -> dict[str, Any]:
        """What the last ``refine`` did, for the report's summary."""
        ...


def route(incident: Incident, agents: Mapping[Domain, Fixer]) -> list[tuple[Domain, float]]:
    """Domains ranked by the blended routing score (classifier and fixer)."""
    assert incident.classification is not None
    blended: list[tuple[Domain, float]] = []
    for domain, score in incident.classification.scores.items():
        fixer = agents.get(domain)
        own = _safe_can_handle(fixer, incident) if fixer else 0.0
        blended.append(
            (domain, round(CLASSIFIER_WEIGHT * score + (1 - CLASSIFIER_WEIGHT) * own, 3))
        )
    return sorted(blended, key=lambda item: (-item[1], item[0].value))


def diagnose_all(
    incidents: Sequence[Incident],
    kb: KnowledgeBase,
    *,
    agents: Mapping[Domain, Fixer] | None = None,
    model: ClassifierModel | None = None,
    memory: MemoryLookup | None = None,
    learned: LearnedRules | None = None,
    assistant: DiagnosisAssistant | None = None,
) -> list[Incident]:
    """Classify, route and diagnose every incident; return them ranked worst first.

    With ``memory``, each diagnosis also cites the closest runbook passages and past
    incidents; with ``assistant``, a model then refines the diagnoses, worst first."""
    agents = agents if agents is not None else fixers()
    context = FixerContext(kb=kb, incidents={i.id: i for i in incidents}, memory=memory)
    for incident in incidents:
        incident.classification = classify(incident, kb, model, learned=learned)
        if not agents:
            continue
        ranked = route(incident, agents)
        taught = learned.domain_for(incident.fingerprint) if learned else None
        if taught is not None:
            # A person said which domain this is: that fixer diagnoses, no second opinion.
            domain = Domain(taught.value)
            ranked = [(domain, 1.0), *((d, 0.0) for d, _ in ranked if d is not domain)]
        (first, first_score), (second, second_score) = ranked[0], ranked[1]
        diagnosis = _diagnose(agents.get(first), incident, context)
        if diagnosis is None:
            continue
        if second_score > 0 and first_score - second_score <= SECOND_OPINION_MARGIN:
            other = _diagnose(agents.get(second), incident, context)
            if other is not None:
                diagnosis = merge(diagnosis, other)
        incident.diagnosis = diagnosis
        if diagnosis.severity is not None and diagnosis.severity.rank > incident.severity.rank:
            incident.grouped_because.append(
                f"severity raised from {incident.severity.value} to {diagnosis.severity.value} "
                f"by {diagnosis.agent}: {diagnosis.severity_reason or 'its evidence'}"
            )
            incident.severity = diagnosis.severity
    for incident in incidents:
        if incident.diagnosis is not None:
            recall(incident, memory, incident.diagnosis)
    ranked_incidents = rank(list(incidents))
    if assistant is not None:
        assistant.refine(ranked_incidents, kb)
    save_needles()  # the regex needles met here, for the next run
    return ranked_incidents


def merge(primary: Diagnosis, second: Diagnosis) -> Diagnosis:
    """The primary diagnosis, with the runner-up's reading kept beside it."""
    primary.second_opinion = f"{second.agent}: {second.root_cause}"
    known = {h.cause for h in primary.hypotheses}
    extra = [h for h in second.hypotheses if h.cause not in known]
    primary.hypotheses = sorted(
        [*primary.hypotheses, *extra], key=lambda h: (-h.score, h.status.value)
    )
    # The runner-up's first steps only: its view is a second opinion, not a second runbook.
    primary.remediation += [s for s in second.remediation if s not in primary.remediation][:2]
    primary.commands += [c for c in second.commands if c not in primary.commands][:2]
    for ref in second.references:
        if ref not in primary.references:
            primary.references.append(ref)
    return primary


def _safe_can_handle(fixer: Fixer, incident: Incident) -> float:
    try:
        return max(0.0, min(1.0, float(fixer.can_handle(incident))))
    except Exception as exc:  # a fixer bug must not stop the analysis
        logger.warning("{}: can_handle failed on {}: {}", fixer.name, incident.id, exc)
        return 0.0


def _diagnose(fixer: Fixer | None, incident: Incident, context: FixerContext) -> Diagnosis | None:
    if fixer is None:
        return None
    try:
        return fixer.diagnose(incident, context)
    except Exception as exc:  # a fixer bug must not stop the analysis
        logger.warning("{}: diagnosis failed on {}: {}", fixer.name, incident.id, exc)
        return None
