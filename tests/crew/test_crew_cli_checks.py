"""The CrewAI engine's parts that need no crewai: its data, its budget, and the CLI's checks.

These run everywhere (crewai is an optional extra): the roster file, the message shapes the
bridge passes on, the request budget, and the one-line errors of ``--engine crewai`` without a
model, with an unknown engine, and without the extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.agents.crew.bridge import RequestBudget, plain_messages
from aiops_copilot.agents.crew.factory import NEEDS_MODEL
from aiops_copilot.agents.crew.roster import RosterError, load_roster, parse_roster
from aiops_copilot.models import Domain
from crew.crew_support import QUIET, SMALL, llm_args
from llm.llm_support import free_port


def test_the_shipped_roster_has_one_agent_per_fixer_domain() -> None:
    roster = load_roster()
    assert set(roster.agents) == set(Domain)
    for domain, spec in roster.agents.items():
        assert spec.role.startswith(f"{domain.value} fixer")
    assert "JSON" in roster.expected_output and "\n" not in roster.expected_output


def _document(**changes: Any) -> dict[str, Any]:
    agents = {
        d.value: {"role": f"{d.value} fixer", "goal": "explain it from the pack"} for d in Domain
    }
    document: dict[str, Any] = {"expected_output": "One JSON object.", "agents": agents}
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _document(agents={"database": {"role": "db fixer", "goal": "explain it please"}}),
            "missing: application, infrastructure, integration, network, security",
        ),
        (
            _document(
                agents={
                    **_document()["agents"],
                    "storage": {"role": "storage fixer", "goal": "explain it please"},
                }
            ),
            "unknown: storage",
        ),
        (_document(manager="yes"), "manager: Extra inputs are not permitted"),
        (_document(expected_output=""), "expected_output: String should have at least 10"),
        ("not a mapping", "roster.yaml: roster"),
    ],
)
def test_a_broken_roster_is_one_line_naming_the_problem(document: Any, message: str) -> None:
    with pytest.raises(RosterError) as raised:
        parse_roster(document)
    text = str(raised.value)
    assert text.startswith("roster.yaml: ") and message in text and "\n" not in text


def test_crewai_messages_become_plain_text_messages() -> None:
    assert plain_messages("just a prompt") == [{"role": "user", "content": "just a prompt"}]
    shaped = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": [{"type": "text", "text": "part one"}, "part two"]},
        {"role": "tool", "content": None},
        "not a message",
    ]
    assert plain_messages(shaped) == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "part one\npart two"},
        {"role": "user", "content": ""},
    ]


def test_the_request_budget_counts_requests_and_time_and_trips_once() -> None:
    now = [0.0]
    budget = RequestBudget(timeout=30.0, seconds=100.0, requests=2, clock=lambda: now[0])
    assert budget.permit() == 30.0
    now[0] = 90.0
    assert budget.permit() == pytest.approx(10.0)  # the remaining time bounds the timeout
    assert budget.permit() is None and budget.stopped == "budget exhausted (2 requests)"
    assert budget.trip("server down") is False  # already stopped: no second warning
    timed = RequestBudget(timeout=30.0, seconds=5.0, requests=10, clock=lambda: now[0])
    now[0] += 6.0
    assert timed.permit() is None and timed.stopped == "budget exhausted (5 s)"
    fresh = RequestBudget(timeout=1.0, seconds=5.0, requests=10)
    assert fresh.trip("unreachable") is True and fresh.permit() is None


def test_engine_crewai_without_a_model_is_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", *QUIET, "--engine", "crewai", *SMALL)
    assert result.code == 2
    assert result.stderr == f"aiops: error: {NEEDS_MODEL}\n"
    assert result.stdout == ""


def test_an_unknown_engine_is_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", *QUIET, "--engine", "autogen", *SMALL)
    assert result.code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("aiops: error: ") and "engine" in line and "crewai" in line


def test_the_engine_is_also_a_setting(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "aiops.toml").write_text('[llm]\nengine = "crewai"\n', encoding="utf-8")
    shown = run_cli("config", "show", "--json")
    assert '"llm.engine"' in shown.stdout and '"crewai"' in shown.stdout
    result = run_cli("analyze", *QUIET, *SMALL)
    assert result.code == 2 and result.stderr == f"aiops: error: {NEEDS_MODEL}\n"


def test_a_missing_crewai_extra_is_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A crewai that cannot be imported, first on the path: the same ImportError a missing
    # package raises, whether or not the real one is installed here.
    broken = tmp_path / "no-crewai" / "crewai"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'crewai\'", name="crewai")\n',
        encoding="utf-8",
    )
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        "analyze",
        *QUIET,
        *llm_args("ollama", dead),
        "--engine",
        "crewai",
        *SMALL,
        env={"PYTHONPATH": str(broken.parent)},
    )
    assert result.code == 2
    assert result.stderr == (
        "aiops: error: --engine crewai needs the crewai extra (crewai is not installed): "
        "pip install 'aiops-copilot[crewai]'\n"
    )


def test_the_cli_does_not_import_crewai_unless_asked() -> None:
    code = "import sys, aiops_copilot.cli; print(sorted(m for m in sys.modules if 'crewai' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
