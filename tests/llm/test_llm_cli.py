"""``aiops analyze --llm ...``, ``aiops llm check`` and ``aiops llm audit`` as a user runs them.

Real processes all the way: the CLI in a subprocess (its own HOME and data folder) talking to
the fake model server subprocess over 127.0.0.1, which records every request it receives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.llm.answer import answer_schema
from llm.llm_support import (
    CHAT_PATH,
    EXAMPLES,
    PLANTED,
    PLANTED_KINDS,
    FakeServer,
    free_port,
    planted_log,
)

SMALL = [str(EXAMPLES / "postgres"), str(EXAMPLES / "app")]  # one database incident
QUIET = ["--json", "--fail-on", "never", "--no-memory", "--no-store"]
API_KEY = "sk-test-PLANTEDapikey0123456789"


def llm_args(kind: str, server: FakeServer) -> list[str]:
    url = server.url + ("/v1" if kind == "openai" else "")
    return ["--llm", kind, "--llm-url", url, "--llm-model", "qwen2.5:3b"]


def incidents(stdout: str) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = json.loads(stdout)["incidents"]
    return report


def deterministic(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An incident as --llm none reports it (the llm field is null there)."""
    return [{k: v for k, v in i.items() if k != "llm"} for i in report]


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """``--llm none`` on the small input: what every failing model must leave as it is."""
    home = tmp_path_factory.mktemp("baseline")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home))
    proc = subprocess.run(
        [sys.executable, "-m", "aiops_copilot", "analyze", *QUIET, "--llm", "none", *SMALL],
        capture_output=True,
        text=True,
        cwd=home,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = incidents(proc.stdout)
    assert [i["llm"] for i in report] == [None]
    return report


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_analyze_refines_through_each_wire_format(run_cli, fake: FakeServer, kind: str) -> None:  # type: ignore[no-untyped-def]
    fake.set_mode("diagnose")
    result = run_cli(
        "analyze",
        *QUIET,
        *llm_args(kind, fake),
        str(EXAMPLES),
        env={"AIOPS_LLM_API_KEY": API_KEY},
    )
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    chats = fake.chats()
    assert len(chats) == 3 and {c["path"] for c in chats} == {CHAT_PATH[kind]}
    for chat in chats:
        body = chat["body"]
        if kind == "ollama":
            assert body["format"] == answer_schema() and body["stream"] is False
            assert chat["authorization"] is None
        else:
            schema = body["response_format"]["json_schema"]["schema"]
            assert body["response_format"]["type"] == "json_schema"
            assert schema == answer_schema()
            assert chat["authorization"] == f"Bearer {API_KEY}"
        assert body["model"] == "qwen2.5:3b"
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert API_KEY not in json.dumps([c["body"] for c in chats])
    report = json.loads(result.stdout)
    assert report["summary"]["llm"]["refined"] == 3
    for incident in report["incidents"]:
        llm = incident["llm"]
        assert llm["provider"] == kind and llm["model"] == "qwen2.5:3b"
        assert llm["fields"][:3] == ["title", "root_cause", "hypotheses"]
        assert incident["title"] == "Model: the pack's first item explains it"
        assert incident["root_cause"].startswith("The fake model read")
        assert "<IP_" not in incident["root_cause"]  # placeholders restored
        assert llm["deterministic"]["root_cause"] != incident["root_cause"]
        assert "wrote the title, root cause" in llm["text"]


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("500", "answered HTTP 500"),
        ("garbage", "returned non-JSON body"),
        ("hang", "timed out after 1s"),
    ],
)
def test_a_failing_model_leaves_the_deterministic_report_and_one_warning(  # type: ignore[no-untyped-def]
    run_cli, fake: FakeServer, baseline: list[dict[str, Any]], mode: str, fragment: str
) -> None:
    fake.set_mode(mode, hang=20)
    result = run_cli(
        "analyze",
        *QUIET,
        *llm_args("ollama", fake),
        *SMALL,
        env={"AIOPS_LLM__TIMEOUT": "1", "AIOPS_LLM__RETRIES": "2"},
    )
    assert result.code == 0, result.stderr
    assert deterministic(incidents(result.stdout)) == deterministic(baseline)
    assert [i["llm"] for i in incidents(result.stdout)] == [None]
    [line] = warning_lines(result.stderr)
    assert line.startswith("WARNING") and "llm:" in line and fragment in line
    assert "after 2 attempts" in line or mode == "garbage"
    assert len(fake.chats()) == (1 if mode == "garbage" else 2)


def test_rate_limit_is_retried_and_the_answer_used(run_cli, fake: FakeServer) -> None:  # type: ignore[no-untyped-def]
    fake.set_mode("429_then_ok")
    result = run_cli("analyze", *QUIET, *llm_args("openai", fake), *SMALL)
    assert result.code == 0 and result.stderr == ""
    assert len(fake.chats()) == 2  # the 429, then the answer
    [incident] = incidents(result.stdout)
    assert incident["llm"]["provider"] == "openai"


def test_a_dead_provider_changes_nothing(  # type: ignore[no-untyped-def]
    run_cli, baseline: list[dict[str, Any]]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli("analyze", *QUIET, "--llm", "ollama", "--llm-url", dead, *SMALL)
    assert result.code == 0
    report = incidents(result.stdout)
    # Identical incidents and domains: --llm none and a configured but dead provider.
    assert report == baseline
    assert [i["domain"] for i in report] == [i["domain"] for i in baseline]
    [line] = warning_lines(result.stderr)
    assert "unreachable" in line and "continuing without the model" in line


def test_planted_secrets_never_leave_and_the_audit_shows_placeholders(  # type: ignore[no-untyped-def]
    run_cli, fake: FakeServer, tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    log = tmp_path / "app.log"
    log.write_text(planted_log(), encoding="utf-8")
    result = run_cli("analyze", *QUIET, *llm_args("openai", fake), str(log))
    assert result.code == 0, result.stderr
    wire = fake.wire_text()
    assert fake.chats()
    assert [kind for kind, value in PLANTED.items() if value in wire] == []
    for kind in PLANTED_KINDS:
        assert re.search(rf"<{kind}_[0-9]+>", wire), kind
    # The report is local: the model's echo of the placeholders is restored there.
    report = json.loads(result.stdout)
    restored = " ".join(i["root_cause"] for i in report["incidents"])
    assert PLANTED["db password"] in restored and "<SECRET_" not in restored
    # The audit file and `aiops llm audit` show placeholders, kinds and previews only.
    audit_file = tmp_path / ".local" / "share" / "aiops" / "llm-audit.jsonl"
    audited = audit_file.read_text(encoding="utf-8")
    assert [kind for kind, value in PLANTED.items() if value in audited] == []
    shown = run_cli("llm", "audit")
    assert shown.code == 0
    assert [kind for kind, value in PLANTED.items() if value in shown.stdout] == []
    assert "<JWT_1>  JWT" in shown.stdout and "<CARD_1>  CARD" in shown.stdout
    assert "verdict" in shown.stdout and "accepted" in shown.stdout
    as_json = json.loads(run_cli("llm", "audit", "--json").stdout)
    assert as_json[0]["placeholder_kinds"].keys() >= PLANTED_KINDS


def test_a_second_run_is_answered_from_the_cache(run_cli, fake: FakeServer) -> None:  # type: ignore[no-untyped-def]
    fake.set_mode("diagnose")
    first = run_cli("analyze", *QUIET, *llm_args("ollama", fake), *SMALL)
    assert first.code == 0 and len(fake.chats()) == 1
    fake.set_mode("diagnose")  # empties the record
    second = run_cli("analyze", *QUIET, *llm_args("ollama", fake), *SMALL)
    assert second.code == 0 and second.stderr == ""
    assert fake.requests() == []  # the server saw nothing the second time
    [incident] = incidents(second.stdout)
    assert incident["llm"]["cached"] is True
    assert incident["root_cause"] == incidents(first.stdout)[0]["root_cause"]
    assert json.loads(second.stdout)["summary"]["llm"]["cached"] == 1


def test_config_file_and_environment_choose_the_provider(  # type: ignore[no-untyped-def]
    run_cli, fake: FakeServer, tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    (tmp_path / "aiops.toml").write_text(
        f'[llm]\nprovider = "openai"\nurl = "{fake.url}"\nmodel = "from-file"\n',
        encoding="utf-8",
    )
    result = run_cli("analyze", *QUIET, *SMALL, env={"AIOPS_LLM__MODEL": "from-env"})
    assert result.code == 0, result.stderr
    [chat] = fake.chats()
    assert chat["path"] == "/v1/chat/completions" and chat["body"]["model"] == "from-env"
    shown = run_cli("config", "show", "--json", env={"AIOPS_LLM__MODEL": "from-env"})
    shown = json.loads(shown.stdout)["settings"]
    assert shown["llm.provider"]["origin"].startswith("file")
    assert shown["llm.model"] == {"value": "from-env", "origin": "environment"}


def test_llm_check(run_cli, fake: FakeServer) -> None:  # type: ignore[no-untyped-def]
    ok = run_cli("llm", "check", *llm_args("ollama", fake))
    assert ok.code == 0, ok.stderr
    assert "ok, tiny request" in ok.stdout and "tiny-test:0.5b" in ok.stdout
    as_json = json.loads(run_cli("llm", "check", "--json", *llm_args("openai", fake)).stdout)
    assert as_json["ok"] is True and as_json["latency_ms"] > 0
    assert "qwen2.5:3b" in as_json["models"]
    dead = run_cli(
        "llm", "check", "--llm", "ollama", "--llm-url", f"http://127.0.0.1:{free_port()}"
    )
    assert dead.code == 1 and "not usable" in dead.stdout and "unreachable" in dead.stdout
    assert "Traceback" not in dead.stderr
    none = run_cli("llm", "check")
    assert none.code == 2
    assert none.stderr.startswith("aiops: error: no model provider configured")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--llm", "llamacpp", "--llm-model", "/nowhere/model.gguf"],
            "needs the llamacpp extra|GGUF model file not found: /nowhere/model.gguf",
        ),
        (["--llm", "openai", "--llm-url", "http://127.0.0.1:9"], "needs a model name"),
        (["--llm", "ollama", "--llm-url", "ftp://x"], "must start with http"),
        (["--llm", "gpt"], "llm.provider"),
    ],
)
def test_unusable_settings_are_one_line_errors(  # type: ignore[no-untyped-def]
    run_cli, args: list[str], message: str
) -> None:
    result = run_cli("analyze", *QUIET, *args, *SMALL)
    assert result.code == 2
    assert result.stderr.startswith("aiops: error:") and re.search(message, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1


def test_llm_none_imports_nothing_of_the_model_machinery(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from aiops_copilot.cli import app\n"
        "try:\n"
        f"    app(['analyze', '--no-store', '--no-memory', '--json', *{SMALL!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(' '.join(sorted(m for m in sys.modules if '.llm' in m)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "d"))
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    loaded = set(proc.stderr.split())
    # The sub-app's registration and the reports' one-line provenance helper, nothing else.
    assert loaded == {"aiops_copilot.llm", "aiops_copilot.llm.cli", "aiops_copilot.llm.provenance"}
