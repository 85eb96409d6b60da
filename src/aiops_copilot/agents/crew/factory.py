"""How ``aiops analyze`` obtains the CrewAI engine: checks first, each failure one line.

Decision (documented in ``docs/llm.md``): ``--engine crewai`` needs a model. CrewAI's agents are
language-model agents; without a model a crew would have nothing to do that the built-in
orchestrator does not already do, and dressing the deterministic fixers up as CrewAI agents
would add about five seconds of import and nothing else. So with ``--llm none`` the command stops
with one line saying so, before it reads any log; with a model, the engine reuses the built-in
assistant's gated provider (one redactor, audit, cache), limits and prompt files, so both
engines send the model the same evidence through the same gate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from aiops_copilot.agents.crew.offline import CrewUnavailable

if TYPE_CHECKING:
    from aiops_copilot.agents.crew.engine import CrewEngine
    from aiops_copilot.agents.orchestrator import DiagnosisAssistant
    from aiops_copilot.config import LlmSettings
    from aiops_copilot.llm.assist import Assistant

__all__ = ["NEEDS_MODEL", "crew_engine", "engine_for"]

NEEDS_MODEL = (
    "--engine crewai needs a model: add --llm ollama|openai|llamacpp (without one, the builtin "
    "engine gives the same deterministic diagnoses)"
)


def crew_engine(assistant: Assistant | None) -> CrewEngine:
    """The crew engine on the built-in assistant's gate; raises :class:`CrewUnavailable`."""
    if assistant is None:
        raise CrewUnavailable(NEEDS_MODEL)
    from aiops_copilot.agents.crew.offline import load_crewai

    api = load_crewai()
    from aiops_copilot.agents.crew.engine import CrewEngine
    from aiops_copilot.agents.crew.roster import RosterError, load_roster

    try:
        roster = load_roster()
    except RosterError as exc:
        raise CrewUnavailable(str(exc)) from None
    return CrewEngine(
        api, assistant.provider, assistant.limits, prompts=assistant.prompts, roster=roster
    )


def engine_for(settings: LlmSettings, assistant: Assistant | None) -> DiagnosisAssistant | None:
    """What ``analyze`` refines diagnoses with: the built-in assistant, the crew, or nothing.
    Exits with ``aiops: error: ...`` (code 2) when the crew cannot run."""
    if settings.engine != "crewai":
        return assistant
    try:
        return crew_engine(assistant)
    except CrewUnavailable as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)
