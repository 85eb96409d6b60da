"""The crew's guardrail and failure paths, in-process: real crewai, real HTTP to the fake server.

The analysis and the engine run in the test process (one crewai import for the module instead
of one per CLI subprocess); the model is still the fake server subprocess, reached over
127.0.0.1 through the gated provider, so every request is recorded on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from aiops_copilot.agents.crew.offline import OFFLINE_ENV
from aiops_copilot.config import LlmSettings
from crew.crew_support import SMALL, needs_crewai
from llm.llm_support import FakeServer, analyse

#: CrewAI 1.15 warns about its own deprecated attribute checks on every crew.
pytestmark = [needs_crewai, pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai.*")]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder; CrewAI's switches set here are undone after the test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in [*OFFLINE_ENV, "CREWAI_STORAGE_DIR"]:
        monkeypatch.setenv(name, "unset-by-test")
    return tmp_path


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m.record["message"])), level="WARNING")
    yield seen
    logger.remove(sink)


def refine(url: str, **settings: Any) -> tuple[Any, Any]:
    """Analyse the small example in-process and let a crew refine it: (incident, report)."""
    from aiops_copilot.agents.crew.factory import crew_engine
    from aiops_copilot.llm.assist import build_assistant

    result, kb = analyse(*(Path(p) for p in SMALL))
    llm = LlmSettings(provider="ollama", url=url, model="qwen2.5:3b", cache=False, **settings)
    engine = crew_engine(build_assistant(llm))
    report = engine.refine(result.incidents, kb)
    [incident] = result.incidents
    assert engine.summary()["engine"] == "crewai"
    return incident, report


def test_a_rejected_answer_is_asked_once_more_then_dropped(
    home: Path, crew_server: FakeServer, warnings: list[str]
) -> None:
    crew_server.set_mode("bad_cite")
    incident, report = refine(crew_server.url)
    assert incident.diagnosis.llm is None  # the deterministic diagnosis stands
    assert (report.rejected, report.refined, report.requests) == (1, 0, 2)
    first, retry = crew_server.chats()
    pack = first["body"]["messages"][1]["content"].split("This is the expected criteria")[0]
    assert pack.strip() and pack in retry["body"]["messages"][1]["content"]  # same task again
    note = retry["body"]["messages"][-1]["content"]
    assert "cites evidence that is not in the pack: E99" in note
    assert "Cite only these ids:" in note  # the retry prompt file, as the builtin engine's
    assert [w for w in warnings if "rejected twice" in w and incident.id in w]


def test_an_answer_fixed_on_the_retry_is_used(
    home: Path, crew_server: FakeServer, warnings: list[str]
) -> None:
    crew_server.set_mode("bad_then_ok")
    incident, report = refine(crew_server.url)
    assert len(crew_server.chats()) == 2 and warnings == []
    assert (report.refined, report.rejected) == (1, 0)
    assert incident.diagnosis.llm.provider == "ollama via crewai"
    assert incident.diagnosis.title == "Model: the pack's first item explains it"


def test_an_answer_that_contradicts_the_knowledge_base_is_not_taken(
    home: Path, crew_server: FakeServer
) -> None:
    crew_server.set_mode("contradict")
    incident, report = refine(crew_server.url)
    assert report.rejected == 1 and incident.diagnosis.llm is None
    assert (
        "contradicts knowledge-base match"
        in crew_server.chats()[1]["body"]["messages"][-1]["content"]
    )


def test_a_spent_budget_sends_nothing(home: Path, crew_server: FakeServer) -> None:
    crew_server.set_mode("diagnose")
    incident, report = refine(crew_server.url, max_requests=1)
    assert report.refined == 1 and report.requests == 1
    crew_server.set_mode("bad_cite")  # would need a second request: the budget refuses it
    incident, report = refine(crew_server.url, max_requests=1)
    assert len(crew_server.chats()) == 1 and incident.diagnosis.llm is None
    assert report.stopped == "budget exhausted (1 requests)"
    assert (report.refined, report.failed) == (0, 1)
