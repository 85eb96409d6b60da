"""The assistant against a real fake-model server: apply, retry, drop, stop, budget, cache.

The incidents come from the real pipeline over the shipped examples; each test refines fresh
copies, so it can compare with the deterministic diagnosis it started from.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from aiops_copilot.config import LlmSettings
from aiops_copilot.llm.answer import answer_schema
from aiops_copilot.llm.assist import Assistant, AssistLimits
from aiops_copilot.llm.audit import AuditLog, read_runs
from aiops_copilot.llm.cache import AnswerCache
from aiops_copilot.llm.gate import open_provider
from aiops_copilot.models import Incident
from llm.llm_support import FakeServer


@pytest.fixture(scope="module")
def found(examples_analysis: tuple[Any, Any]) -> tuple[list[Incident], Any]:
    result, kb = examples_analysis
    assert len(result.incidents) == 3
    return result.incidents, kb


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The warnings the assistant logs, one string each."""
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m.record["message"])), level="WARNING")
    yield seen
    logger.remove(sink)


def assistant(
    server: FakeServer,
    tmp_path: Path,
    *,
    cache: bool = False,
    timeout: float = 5.0,
    **limits: Any,
) -> Assistant:
    settings = LlmSettings(provider="ollama", url=server.url, retries=1, timeout=timeout)
    gated = open_provider(
        settings,
        audit=AuditLog(tmp_path / "audit.jsonl", "run-test"),
        cache=AnswerCache(tmp_path / "cache") if cache else None,
    )
    return Assistant(gated, AssistLimits(timeout=timeout, **limits))


def fresh(found: tuple[list[Incident], Any], count: int = 3) -> list[Incident]:
    return copy.deepcopy(found[0][:count])


def snapshot(incidents: list[Incident]) -> list[Any]:
    return [
        (i.id, i.severity, i.diagnosis.title, i.diagnosis.root_cause, len(i.diagnosis.hypotheses))
        for i in incidents
        if i.diagnosis
    ]


def test_valid_answers_are_applied_restored_and_marked(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    incidents = fresh(found)
    before = copy.deepcopy(incidents)
    report = assistant(fake, tmp_path).refine(incidents, found[1])
    assert (report.refined, report.requests, report.rejected) == (3, 3, 0)
    chats = fake.chats()
    assert len(chats) == 3
    assert all(c["body"]["format"] == answer_schema() for c in chats)
    for old, new in zip(before, incidents, strict=True):
        assert new.severity == old.severity and new.classification == old.classification
        d = new.diagnosis
        assert d is not None and d.llm is not None
        assert d.title == "Model: the pack's first item explains it"
        assert d.llm.deterministic["root_cause"] == old.diagnosis.root_cause
        assert d.llm.fields == ["title", "root_cause", "hypotheses", "remediation", "commands"]
        assert d.llm.model_items == {"hypotheses": 1, "remediation": 1, "commands": 1}
        assert set(d.llm.citations) == set(d.llm.cited)
        # The fake echoes every placeholder it saw: they come back as the logs' own values.
        assert "<IP_" not in d.root_cause and "<SECRET_" not in d.root_cause
        assert re.search(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", d.root_cause)
        # The model's steps come first; the fixer's follow; the destructive command is gone.
        assert d.remediation[1:] == old.diagnosis.remediation[: len(d.remediation) - 1]
        assert d.commands[0] == "echo fake-model-check"
        assert not any("rm -rf" in c for c in d.commands)
        assert d.hypotheses[0].cause == "The cause the first item names"
        assert [h.cause for h in d.hypotheses[1:]] == [h.cause for h in old.diagnosis.hypotheses]
    # What the wire saw carries placeholders, never the addresses.
    wire = fake.wire_text()
    assert "<IP_1>" in wire and "203.0.113.3 " not in wire


def test_a_rejected_answer_is_retried_once_with_the_reason(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("bad_then_ok")
    incidents = fresh(found, 1)
    report = assistant(fake, tmp_path).refine(incidents, found[1])
    assert (report.refined, report.requests) == (1, 2)
    first, second = fake.chats()
    messages = second["body"]["messages"]
    assert messages[: len(first["body"]["messages"])] == first["body"]["messages"]
    assert messages[-2]["role"] == "assistant" and "E99" in messages[-2]["content"]
    assert messages[-1]["role"] == "user"
    assert "rejected: cites evidence that is not in the pack: E99" in messages[-1]["content"]
    assert incidents[0].diagnosis is not None and incidents[0].diagnosis.llm is not None


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("bad_cite", "not in the pack: E99"),
        ("contradict", "contradicts knowledge-base match postgresql-too-many-clients"),
        ("normal", "schema: "),  # answers built from the schema cite ids like "sample"
        ("bad_content", "non-JSON content"),
    ],
)
def test_an_answer_failing_twice_is_dropped(
    fake: FakeServer,
    found: tuple[list[Incident], Any],
    tmp_path: Path,
    warnings: list[str],
    mode: str,
    reason: str,
) -> None:
    fake.set_mode(mode)
    incidents = fresh(found, 1)
    before = snapshot(incidents)
    report = assistant(fake, tmp_path).refine(incidents, found[1])
    assert (report.refined, report.rejected, report.requests) == (0, 1, 2)
    assert len(fake.chats()) == 2
    assert snapshot(incidents) == before
    assert incidents[0].diagnosis is not None and incidents[0].diagnosis.llm is None
    [warning] = [w for w in warnings if w.startswith("llm:")]
    assert "rejected twice" in warning and reason in warning and "\n" not in warning
    verdicts = read_runs(tmp_path / "audit.jsonl")[0].verdicts
    assert [v["outcome"] for v in verdicts] == ["rejected"]


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [("500", "HTTP 500"), ("garbage", "non-JSON body"), ("hang", "timed out after 0.5s")],
)
def test_a_failing_provider_is_not_asked_again(
    fake: FakeServer,
    found: tuple[list[Incident], Any],
    tmp_path: Path,
    warnings: list[str],
    mode: str,
    fragment: str,
) -> None:
    fake.set_mode(mode, hang=20)
    incidents = fresh(found)
    before = snapshot(incidents)
    limits: dict[str, Any] = {"max_in_flight": 1}
    report = assistant(fake, tmp_path, timeout=0.5, **limits).refine(incidents, found[1])
    assert report.requests == 1 and len(fake.chats()) == 1
    assert (report.failed, report.skipped, report.refined) == (1, 2, 0)
    assert report.stopped is not None and fragment in report.stopped
    assert snapshot(incidents) == before
    [warning] = [w for w in warnings if w.startswith("llm:")]
    assert fragment in warning and "continuing without the model" in warning


def test_the_request_budget_is_never_exceeded(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path, warnings: list[str]
) -> None:
    fake.set_mode("diagnose")
    incidents = fresh(found)
    report = assistant(fake, tmp_path, max_requests=1, max_in_flight=1).refine(incidents, found[1])
    assert (report.requests, report.refined, report.skipped) == (1, 1, 2)
    assert len(fake.chats()) == 1
    assert [i.diagnosis.llm is not None for i in incidents if i.diagnosis] == [True, False, False]
    assert any("budget exhausted (1 requests)" in w for w in warnings)


@pytest.mark.timeout(60)
def test_the_time_budget_ends_the_wait(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("hang", hang=30)
    incidents = fresh(found)
    before = snapshot(incidents)
    # Each request may wait 25 s, but the analysis grants the model 1 s in all.
    report = assistant(fake, tmp_path, timeout=25, budget_seconds=1.0).refine(incidents, found[1])
    assert report.refined == 0 and report.requests <= 2
    assert snapshot(incidents) == before


def test_identical_requests_are_sent_once(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    one = fresh(found, 1)[0]
    twin = copy.deepcopy(one)
    twin.id = "INC-twin"
    report = assistant(fake, tmp_path, max_in_flight=2).refine([one, twin], found[1])
    assert report.refined == 2 and len(fake.chats()) == 1
    assert report.requests + report.shared == 2


def test_a_second_run_is_answered_from_the_cache(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    first = assistant(fake, tmp_path, cache=True).refine(fresh(found), found[1])
    assert first.requests == 3 and len(fake.chats()) == 3
    fake.set_mode("500")  # were anything sent now, it would fail
    again = fresh(found)
    second = assistant(fake, tmp_path, cache=True).refine(again, found[1])
    assert (second.requests, second.cached, second.refined) == (0, 3, 3)
    assert fake.requests() == []
    assert all(i.diagnosis and i.diagnosis.llm and i.diagnosis.llm.cached for i in again)
    assert all("<IP_" not in i.diagnosis.root_cause for i in again if i.diagnosis)
    # Only redacted text is on disk.
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert "<IP_" in stored and "203.0.113.3 " not in stored


def test_the_audit_holds_exactly_what_was_sent(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    assistant(fake, tmp_path).refine(fresh(found), found[1])
    [run] = read_runs(tmp_path / "audit.jsonl")
    assert run.header["provider"] == "ollama"
    wire = sorted(json.dumps(c["body"]["messages"]) for c in fake.chats())
    audited = sorted(json.dumps(r["messages"]) for r in run.requests)
    assert wire == audited
    assert [v["outcome"] for v in run.verdicts] == ["accepted"] * 3
    assert run.placeholder_kinds.get("IP", 0) >= 3
    for request in run.requests:
        for entry in request["redactions"]:
            assert entry["placeholder"] in json.dumps(request["messages"])
            assert not re.search(r"\d+\.\d+\.\d+\.\d+", entry["preview"])


def test_incidents_below_the_floor_are_left_alone(
    fake: FakeServer, found: tuple[list[Incident], Any], tmp_path: Path
) -> None:
    from aiops_copilot.models import Severity

    fake.set_mode("diagnose")
    incidents = fresh(found)
    report = assistant(fake, tmp_path, min_severity=Severity.HIGH).refine(incidents, found[1])
    high = [i for i in incidents if i.severity.rank >= Severity.HIGH.rank]
    assert report.incidents == len(high) == len(fake.chats()) < len(incidents)
