"""Helpers of the CrewAI engine tests: the skip marker, the cases, and a network witness.

The witness is a ``sitecustomize`` module put first on the CLI subprocess' ``PYTHONPATH``: it
installs a Python audit hook that writes down every socket connection and name lookup the
process attempts, so a test can prove that a crew run talks to the model server and to
nothing else (no telemetry, no trace upload).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

#: crewai is an optional extra: the engine's own tests need it, the CLI's checks do not.
HAS_CREWAI = importlib.util.find_spec("crewai") is not None
needs_crewai = pytest.mark.skipif(
    not HAS_CREWAI, reason="crewai is not installed (the crewai extra: pip install '.[crewai]')"
)

EVALS = Path(__file__).resolve().parents[1] / "evals"
#: One failure from each of five domains (real logs; see tests/evals/README.md).
CASES = [
    EVALS / "database" / "postgres-connection-leak-slots-exhausted",
    EVALS / "network" / "tls-expired-server-certificate",
    EVALS / "infrastructure" / "disk-full-redis-aof-volume",
    EVALS / "integration" / "rabbitmq-publish-exchange-not-found",
    EVALS / "security" / "ssh-password-bruteforce",
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = [str(EXAMPLES / "postgres"), str(EXAMPLES / "app")]  # one database incident
QUIET = ["--json", "--fail-on", "never", "--no-memory", "--no-store"]

_WITNESS = """
import os, sys

_LOG = os.environ["AIOPS_TEST_NET_LOG"]

def _hook(event, args):
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) == 1:  # AF_UNIX: local IPC, not the network
            return
        if isinstance(address, tuple):
            address = f"{address[0]}:{address[1]}"
        where = f"connect {address}"
    elif event == "socket.getaddrinfo":
        where = f"lookup {args[0]}:{args[1]}"
    else:
        return
    with open(_LOG, "a", encoding="utf-8") as out:
        out.write(where + "\\n")

sys.addaudithook(_hook)
"""


def network_witness(folder: Path) -> tuple[dict[str, str], Path]:
    """Environment that makes a CLI subprocess log its connection attempts, and the log."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_WITNESS, encoding="utf-8")
    log = folder / "net.log"
    log.write_text("", encoding="utf-8")
    return {"PYTHONPATH": str(folder), "AIOPS_TEST_NET_LOG": str(log)}, log


def logs_of(cases: list[Path]) -> list[str]:
    return [str(case / "logs") for case in cases]


def llm_args(kind: str, url: str) -> list[str]:
    url = url + ("/v1" if kind == "openai" else "")
    return ["--llm", kind, "--llm-url", url, "--llm-model", "qwen2.5:3b"]


def report_of(stdout: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(stdout)
    return report


def without_model(incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents as the deterministic pipeline reports them (no model-written fields)."""
    return [{k: v for k, v in i.items() if k != "llm"} for i in incidents]


def audit_requests(home: Path) -> list[dict[str, Any]]:
    """The request records of the last run in the audit file under a run_cli HOME."""
    path = home / ".local" / "share" / "aiops" / "llm-audit.jsonl"
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    last = [r for r in records if r.get("type") == "run"][-1]["run"]
    return [r for r in records if r.get("type") == "request" and r.get("run") == last]
