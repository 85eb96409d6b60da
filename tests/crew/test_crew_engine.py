"""``aiops analyze --engine crewai`` as a user runs it, against a real fake model server.

Real processes all the way: the CLI in a subprocess (own HOME and data folder, and a network
witness recording every connection it attempts) talking over 127.0.0.1 to the fake model
server subprocess, which records every request. Skipped when the crewai extra is missing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from aiops_copilot.llm.answer import answer_schema
from crew.crew_support import (
    CASES,
    QUIET,
    SMALL,
    audit_requests,
    llm_args,
    logs_of,
    needs_crewai,
    network_witness,
    report_of,
)
from llm.llm_support import CHAT_PATH, PLANTED, PLANTED_KINDS, FakeServer, free_port, planted_log

#: CrewAI 1.15 warns about its own deprecated attribute checks on every crew.
pytestmark = [needs_crewai, pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai.*")]

CREW = ["--engine", "crewai"]
API_KEY = "sk-test-PLANTEDcrewkey0123456789"


@pytest.fixture
def fake(crew_server: FakeServer) -> FakeServer:
    crew_server.set_mode("diagnose")
    return crew_server


def test_the_crew_routes_like_the_builtin_engine_and_keeps_the_contract(  # type: ignore[no-untyped-def]
    run_cli, fake: FakeServer, tmp_path: Path
) -> None:
    logs = logs_of(CASES)
    builtin = run_cli("analyze", *QUIET, *llm_args("ollama", fake.url), *logs)
    assert builtin.code == 0, builtin.stderr
    builtin_chats = len(fake.chats())
    fake.set_mode("diagnose")  # empties the record
    env, net_log = network_witness(tmp_path / "witness")
    crew = run_cli("analyze", *QUIET, *llm_args("ollama", fake.url), *CREW, *logs, env=env)
    assert crew.code == 0, crew.stderr
    assert "Traceback" not in crew.stderr and "WARNING" not in crew.stderr
    # The same JSON contract, incidents, domains and severities as the built-in engine.
    ours, theirs = report_of(crew.stdout), report_of(builtin.stdout)
    assert ours.keys() == theirs.keys() and ours["version"] == theirs["version"]
    assert [i.keys() for i in ours["incidents"]] == [i.keys() for i in theirs["incidents"]]
    routed = [(i["id"], i["domain"], i["severity"]) for i in ours["incidents"]]
    assert routed == [(i["id"], i["domain"], i["severity"]) for i in theirs["incidents"]]
    assert {domain for _, domain, _ in routed} >= {
        "database",
        "network",
        "infrastructure",
        "integration",
        "security",
    }
    # Every incident refined by the crew through the same checks, one request each.
    summary = ours["summary"]["llm"]
    assert (
        summary["engine"] == "crewai" and summary["refined"] == len(routed) == summary["requests"]
    )
    assert len(fake.chats()) == builtin_chats == len(routed)
    for incident in ours["incidents"]:
        assert incident["llm"]["provider"] == "ollama via crewai"
        assert incident["title"] == "Model: the pack's first item explains it"
        assert "rm -rf" not in " ".join(incident["commands"])  # the same command filter
    # Each task went to the CrewAI agent of the incident's own domain, in structured mode.
    domain_of = {i["id"]: i["domain"] for i in ours["incidents"]}
    requests = audit_requests(tmp_path)
    assert sorted(r["incident"] for r in requests) == sorted(domain_of)
    for request in requests:
        system = request["messages"][0]["content"]
        assert system.startswith(f"You are {domain_of[request['incident']]} fixer of the")
        assert request["purpose"] == "crewai diagnose"
    for chat in fake.chats():
        assert chat["path"] == CHAT_PATH["ollama"] and chat["body"]["format"] == answer_schema()
    # Offline: the only connections the run attempted were to the model server.
    port = fake.url.rsplit(":", 1)[1]
    attempts = set(net_log.read_text("utf-8").splitlines())
    assert attempts and attempts <= {f"connect 127.0.0.1:{port}", f"lookup 127.0.0.1:{port}"}


def test_planted_secrets_never_reach_the_model_nor_crewai_over_openai(  # type: ignore[no-untyped-def]
    run_cli, fake: FakeServer, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text(planted_log(), encoding="utf-8")
    result = run_cli(
        "analyze",
        *QUIET,
        *llm_args("openai", fake.url),
        *CREW,
        str(log),
        env={"AIOPS_LLM_API_KEY": API_KEY},
    )
    assert result.code == 0, result.stderr
    # OpenAI's wire format: the answer schema as response_format, the key from the environment.
    for chat in fake.chats():
        assert chat["path"] == CHAT_PATH["openai"]
        assert chat["body"]["response_format"]["json_schema"]["schema"] == answer_schema()
        assert chat["authorization"] == f"Bearer {API_KEY}"
    wire = fake.wire_text()
    assert fake.chats() and API_KEY not in wire.replace(f"Bearer {API_KEY}", "")
    assert [kind for kind, value in PLANTED.items() if value in wire] == []
    for kind in PLANTED_KINDS:
        assert f"<{kind}_1>" in wire, kind
    # CrewAI keeps its last kickoff's tasks on disk: redacted text only, in our data folder.
    stored = tmp_path / ".local" / "share" / "aiops" / "crewai" / "latest_kickoff_task_outputs.db"
    with sqlite3.connect(stored) as db:
        kept = json.dumps(db.execute("select * from latest_kickoff_task_outputs").fetchall())
    assert "<SECRET_1>" in kept
    assert [kind for kind, value in PLANTED.items() if value in kept] == []
    # The local report gets the real values back.
    report = report_of(result.stdout)
    restored = " ".join(i["root_cause"] for i in report["incidents"])
    assert PLANTED["db password"] in restored and "<SECRET_" not in restored
    assert {i["llm"]["provider"] for i in report["incidents"]} == {"openai via crewai"}


def test_a_dead_provider_leaves_the_deterministic_report(run_cli) -> None:  # type: ignore[no-untyped-def]
    baseline = run_cli("analyze", *QUIET, "--llm", "none", *SMALL)
    assert baseline.code == 0 and baseline.stderr == ""
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli("analyze", *QUIET, *llm_args("ollama", dead), *CREW, *SMALL)
    assert result.code == baseline.code
    incidents = report_of(result.stdout)["incidents"]
    assert incidents == report_of(baseline.stdout)["incidents"]  # identical, llm null
    [line] = result.stderr.splitlines()
    assert line.startswith("WARNING") and "unreachable" in line
    assert "continuing without the model" in line
    summary = report_of(result.stdout)["summary"]["llm"]
    assert summary["refined"] == 0 and summary["failed"] == 1 and summary["stopped"]
