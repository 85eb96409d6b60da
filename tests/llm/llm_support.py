"""Shared helpers of the LLM tests: the fake model server process and planted-secret logs.

The server is a real subprocess on 127.0.0.1 (``fake_llm_server.py``) that records every
request it receives, so tests assert on what actually went over the wire.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER = Path(__file__).with_name("fake_llm_server.py")
CHAT_PATH = {"ollama": "/api/chat", "openai": "/v1/chat/completions"}


@dataclass
class FakeServer:
    url: str
    record: Path

    def set_mode(self, mode: str, hang: float | None = None) -> None:
        """Switch behaviour; this also empties the record file."""
        body: dict[str, Any] = {"mode": mode}
        if hang is not None:
            body["hang"] = hang
        request = urllib.request.Request(
            self.url + "/_control",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=5) as response:
            assert response.status == 200

    def requests(self) -> list[dict[str, Any]]:
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def chats(self) -> list[dict[str, Any]]:
        """The chat requests only (not model listings)."""
        return [r for r in self.requests() if r["path"] in CHAT_PATH.values()]

    def wire_text(self) -> str:
        """Everything the server received, as one string, to search for leaked values."""
        return self.record.read_text(encoding="utf-8")


@contextmanager
def fake_server(record: Path, *, hang: float = 20.0) -> Iterator[FakeServer]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", "0", "--record", str(record), "--hang", str(hang)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield FakeServer(url=f"http://127.0.0.1:{int(line.split()[1])}", record=record)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- planted secrets ---------------------------------------------------------------------------

#: Values that must never reach a model, by kind; each appears in error lines of PLANTED_LOG.
PLANTED: dict[str, str] = {
    "db password": "Tr0ub4dor-9xq",
    "db password 2": "hunter2hunter2",
    "aws key id": "AKIAQ3PLANTED7EXAMPL",
    "aws secret": "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",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXVzZXIifQ.c2lnbmF0dXJlLXBsYW50ZWQ",
    "openai key": "sk-proj-PLANTEDabcdefghijklmnop0123",
    "github token": "ghp_PLANTED0123456789abcdefghijklmnopqr",
    "email": "jane.planted@example.org",
    "card": "4111111111111111",
    "card spaced": "5500 0000 0000 0004",
    "bearer": "PLANTEDbearer0123456789abcdef",
}
#: The placeholder kinds those values must turn into.
PLANTED_KINDS = {"SECRET", "KEY", "JWT", "EMAIL", "CARD"}


def planted_log() -> str:
    """A Python-logging file whose errors are full of the PLANTED values (and some IPs)."""
    p = PLANTED
    messages = [
        "ERROR orders.db: connection to postgresql://orders:{}@db-7.prod.internal:5432/orders"
        " failed: FATAL:  sorry, too many clients already".format(p["db password"]),
        "ERROR orders.db: retry with DATABASE_URL=mysql://app:{}@10.20.30.40/shop failed: "
        "Too many connections".format(p["db password 2"]),
        "ERROR s3sync: AccessDenied for {} (aws_secret_access_key={}) on bucket backups".format(
            p["aws key id"], p["aws secret"]
        ),
        "ERROR api.auth: 401 Unauthorized for Authorization: Bearer {} from 203.0.113.50".format(
            p["jwt"]
        ),
        "ERROR api.auth: token rejected: Bearer {} expired".format(p["bearer"]),
        "ERROR llm.client: provider refused api_key={} and github token {}".format(
            p["openai key"], p["github token"]
        ),
        "ERROR billing: charge failed for {} card {} (backup card {})".format(
            p["email"], p["card"], p["card spaced"]
        ),
    ]
    lines = []
    for minute in range(3):
        for second, message in enumerate(messages):
            lines.append(f"2026-11-20 10:0{minute}:{10 + second:02d},000 {message}")
    return "\n".join(lines) + "\n"


# -- analyses ------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def analyse(*paths: Path) -> tuple[Any, Any]:
    """The real pipeline in-process (no store, no memory): (AnalysisResult, KnowledgeBase)."""
    from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
    from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
    from aiops_copilot.knowledge.loader import load_knowledge
    from aiops_copilot.parsing.miner import TemplateMiner

    kb = load_knowledge()
    run = open_inputs([str(p) for p in paths])
    options = AnalysisOptions(detectors=default_detectors())
    result = analyze(run, iter_records(run, ReadOptions()), TemplateMiner(), kb, options)
    return result, kb
