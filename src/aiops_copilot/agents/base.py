"""The ``Fixer`` protocol every specialist agent follows, and the one registry that lists them.

A fixer is a small class over plain data: ``can_handle`` says how well an incident fits its
speciality (0..1), ``diagnose`` writes the :class:`~aiops_copilot.models.Diagnosis`. Fixers do
not read files or call each other; the orchestrator gives them the incident, the knowledge base
and whatever context exists (later: memory, an LLM), and merges their results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, cast, runtime_checkable

from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.models import (
    Diagnosis,
    Domain,
    Incident,
    RunbookPassage,
    SimilarIncident,
)


@runtime_checkable
class MemoryLookup(Protocol):
    """What memory offers a fixer: the team's runbook passages and past incidents closest to
    an incident, best first, only those above the similarity threshold (``[]`` when none).

    ``diagnosis`` is the fixer's own conclusion so far, when it has one: its title and root
    cause make a better query than the log lines alone. Implementations never raise."""

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]: ...

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]: ...


@dataclass
class FixerContext:
    """What a fixer may consult besides the incident itself."""

    kb: KnowledgeBase
    #: Other incidents of the same run, by id: a fixer may cite a linked cause or symptom.
    incidents: dict[str, Incident] = field(default_factory=dict)
    #: Vector memory (runbooks, past incidents); ``None`` when disabled or unavailable.
    memory: MemoryLookup | None = None


@runtime_checkable
class Fixer(Protocol):
    """A specialist agent for one domain."""

    domain: Domain
    name: str

    def can_handle(self, incident: Incident) -> float:
        """How well this incident fits the speciality, 0..1 (the classifier's score is a hint)."""
        ...

    def diagnose(self, incident: Incident, context: FixerContext) -> Diagnosis:
        """A diagnosis resting on the incident's evidence and the knowledge base."""
        ...


_REGISTRY: dict[Domain, Callable[[], Fixer]] = {}


_T = TypeVar("_T")


def register(domain: Domain) -> Callable[[type[_T]], type[_T]]:
    """Class decorator: the one place a fixer is made known (``fixers/__init__`` imports all)."""

    def wrap(cls: type[_T]) -> type[_T]:
        if domain in _REGISTRY:
            raise ValueError(f"a fixer for {domain.value} is already registered")
        _REGISTRY[domain] = cast(Callable[[], Fixer], cls)
        return cls

    return wrap


def fixers() -> dict[Domain, Fixer]:
    """One instance of every registered fixer, by domain."""
    import aiops_copilot.agents.fixers  # noqa: F401  (registers the six)

    return {domain: factory() for domain, factory in _REGISTRY.items()}
