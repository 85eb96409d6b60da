"""The crew's six agents, from ``roster.yaml``: one CrewAI agent per fixer domain.

Why data: who an agent is told it is (role, goal) is prompt text, tuned by reading answers; it
belongs beside the prompts, not in code. The loader checks that every fixer domain has exactly
one agent, so a domain added to :class:`~aiops_copilot.models.Domain` without a crew member
fails loudly at the first ``--engine crewai`` run rather than routing nowhere.

Each agent is built for one bounded job: no tools, no delegation, no memory, no planning, one
model call per attempt, and no retry of its own (CrewAI's ``max_retry_limit``) -- the task's
guardrail asks at most once more, and a failed request ends the crew's run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiops_copilot.models import Domain

__all__ = ["AgentSpec", "Roster", "RosterError", "build_agents", "load_roster"]

RESOURCE = "roster.yaml"


class RosterError(ValueError):
    """``roster.yaml`` is broken: one line naming what."""


class AgentSpec(BaseModel):
    """One crew member as the data file describes it."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=3, max_length=200)
    goal: str = Field(min_length=10, max_length=600)


class _RosterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_output: str = Field(min_length=10)
    agents: dict[str, AgentSpec]


@dataclass(frozen=True)
class Roster:
    """Every domain's agent, and what a task's answer must look like."""

    expected_output: str
    agents: dict[Domain, AgentSpec]


def parse_roster(document: Any) -> Roster:
    """Check a loaded ``roster.yaml``: the schema, and exactly the six fixer domains."""
    try:
        parsed = _RosterFile.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "roster"
        raise RosterError(f"{RESOURCE}: {where}: {error['msg']}") from None
    known = {d.value for d in Domain}
    unknown = sorted(set(parsed.agents) - known)
    missing = sorted(known - set(parsed.agents))
    if unknown or missing:
        raise RosterError(
            f"{RESOURCE}: one agent per fixer domain is needed"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    return Roster(
        expected_output=" ".join(parsed.expected_output.split()),
        agents={Domain(name): spec for name, spec in parsed.agents.items()},
    )


@lru_cache(maxsize=1)
def load_roster() -> Roster:
    """The shipped roster (read once per process)."""
    text = resources.files(__package__ or __name__).joinpath(RESOURCE).read_text("utf-8")
    return parse_roster(yaml.safe_load(text))


def build_agents(agent_class: Any, roster: Roster, llm: Any, backstory: str) -> dict[str, Any]:
    """One CrewAI ``Agent`` per domain, by domain name, all speaking through ``llm``."""
    return {
        domain.value: agent_class(
            role=spec.role,
            goal=" ".join(spec.goal.split()),
            backstory=backstory,
            llm=llm,
            tools=[],
            allow_delegation=False,
            max_iter=1,
            max_retry_limit=0,
            respect_context_window=False,
            cache=False,
            verbose=False,
        )
        for domain, spec in roster.agents.items()
    }
