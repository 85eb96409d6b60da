"""``POST /v1/analyze`` with vector memory on: the upload cites runbooks as ``aiops analyze``
does, from the live pipeline's memory (Qdrant local mode admits one client per folder, so
the server shares one under a lock), and an upload kept with ``?store=true`` is remembered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.memory.location import MemoryTarget, open_memory
from aiops_copilot.memory.vectors import Kind
from api.api_server import EVALS, RunningApi, options_for, running_api

CASE = EVALS / "database" / "postgres-connection-leak-slots-exhausted" / "logs" / "postgresql.log"


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CLI's report of the file with memory on, in a memory of its own (nothing stored:
    what an upload sees in a new server)."""
    folder: Path = tmp_path_factory.mktemp("cli")
    (folder / "postgresql.log").write_bytes(CASE.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(HOME=str(folder), XDG_DATA_HOME=str(folder / "data"), NO_COLOR="1")
    env.update(AIOPS_MEMORY__PATH=str(folder / "qdrant"))
    proc = subprocess.run(
        [sys.executable, "-m", "aiops_copilot", "analyze", "--format", "json", "--no-store",
         "--fail-on", "never", "postgresql.log"],
        capture_output=True, cwd=folder, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


@pytest.fixture(scope="module")
def memory_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server") / "qdrant"


@pytest.fixture(scope="module")
def api(memory_folder: Path) -> Iterator[RunningApi]:
    folder = memory_folder.parent
    settings = Settings(
        store=StoreSettings(url=str(folder / "store.db")),
        memory=MemorySettings(path=memory_folder),
    )
    with running_api(options_for(folder, settings=settings)) as running:
        yield running


def _upload(api: RunningApi, **params: Any) -> dict[str, Any]:
    with api.client() as client:
        response = client.post(
            "/v1/analyze",
            params=params,
            files={"file": ("postgresql.log", CASE.read_bytes(), "text/plain")},
        )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_upload_cites_runbooks_as_the_cli_does(api: RunningApi, cli_report: dict[str, Any]) -> None:
    cited = [i["runbooks"] for i in cli_report["incidents"]]
    assert any(cited), "the case must cite a runbook with memory on"
    upload = _upload(api)
    assert upload["incidents"] == cli_report["incidents"]


def test_concurrent_uploads_share_the_memory(api: RunningApi, cli_report: dict[str, Any]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: _upload(api), range(4)))
    for report in reports:
        assert [i["runbooks"] for i in report["incidents"]] == [
            i["runbooks"] for i in cli_report["incidents"]
        ]


def _remembered_after(folder: Path, **params: Any) -> tuple[int, set[str]]:
    """Upload once to a server of its own, stop it, then count the incidents its memory kept
    (memory is read after the server has let go of the folder)."""
    folder.mkdir()
    settings = Settings(
        store=StoreSettings(url=str(folder / "store.db")),
        memory=MemorySettings(path=folder / "qdrant"),
    )
    with running_api(options_for(folder, settings=settings)) as api:
        report = _upload(api, **params)
    memory = open_memory(MemoryTarget(path=folder / "qdrant"), required=True)
    assert memory is not None
    try:
        return memory.count(Kind.INCIDENTS), {i["fingerprint"] for i in report["incidents"]}
    finally:
        memory.close()


def test_only_a_stored_upload_is_remembered(memory_folder: Path) -> None:
    asked, _ = _remembered_after(memory_folder.parent / "question")
    assert asked == 0  # a question, not history
    kept, fingerprints = _remembered_after(memory_folder.parent / "kept", store="true")
    assert fingerprints and kept == len(fingerprints)


def test_resolving_keeps_the_note_in_the_shared_memory(memory_folder: Path) -> None:
    """``POST /v1/incidents/{id}/resolve`` writes the note to the memory the server holds
    (a second client could not open the folder), so similar incidents later cite it."""
    folder = memory_folder.parent / "resolved"
    folder.mkdir()
    settings = Settings(
        store=StoreSettings(url=str(folder / "store.db")),
        memory=MemorySettings(path=folder / "qdrant"),
    )
    with running_api(options_for(folder, settings=settings)) as api:
        kept = _upload(api, store="true")["incidents"][0]
        with api.client() as client:
            answer = client.post(
                f"/v1/incidents/{kept['id']}/resolve", json={"note": "pool capped at 20"}
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["remembered"] is True
    memory = open_memory(MemoryTarget(path=folder / "qdrant"), required=True)
    assert memory is not None
    try:
        payloads = memory.search(Kind.INCIDENTS, kept["title"], 5)
        assert any(hit.payload.get("resolution") == "pool capped at 20" for hit in payloads)
    finally:
        memory.close()
