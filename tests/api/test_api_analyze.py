"""``POST /v1/analyze`` returns what ``aiops analyze --format json`` prints for the same file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from api.api_server import EVALS, RunningApi

CASE = EVALS / "database" / "postgres-connection-leak-slots-exhausted" / "logs" / "postgresql.log"


@pytest.fixture(scope="module")
def cli_report(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The CLI's report of the same file (no store, no memory: what the upload does)."""
    import os
    import subprocess
    import sys

    folder: Path = tmp_path_factory.mktemp("cli")
    (folder / "postgresql.log").write_bytes(CASE.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(HOME=str(folder), XDG_DATA_HOME=str(folder / "data"), NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "aiops_copilot", "analyze", "--format", "json", "--no-store",
         "--no-memory", "--fail-on", "never", "postgresql.log"],
        capture_output=True, cwd=folder, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    report: dict[str, Any] = json.loads(proc.stdout)
    assert report["incidents"], "the case must raise an incident"
    return report


def _same_report(upload: dict[str, Any], cli: dict[str, Any]) -> None:
    assert upload["version"] == cli["version"]
    assert upload["incidents"] == cli["incidents"]
    assert upload["summary"]["sources"] == cli["summary"]["sources"]
    assert upload["summary"]["totals"] == cli["summary"]["totals"]


def test_multipart_upload_matches_the_cli(api: RunningApi, cli_report: dict[str, Any]) -> None:
    with api.client() as client:
        response = client.post(
            "/v1/analyze", files={"file": ("postgresql.log", CASE.read_bytes(), "text/plain")}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    _same_report(response.json(), cli_report)
    assert api.metric("aiops_analysis_seconds_count", kind="upload") >= 1


def test_raw_gzip_body_with_a_name(api: RunningApi, cli_report: dict[str, Any]) -> None:
    with api.client() as client:
        response = client.post(
            "/v1/analyze",
            params={"name": "../../etc/postgresql.log"},
            content=gzip.compress(CASE.read_bytes()),
            headers={"Content-Type": "application/octet-stream"},
        )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"]["sources"][0]["source"] == "postgresql.log"  # no path kept
    assert report["incidents"] == cli_report["incidents"]


def test_upload_is_not_stored_unless_asked(api: RunningApi) -> None:
    with api.client() as client:
        before = client.get("/v1/incidents", params={"domain": "database"}).json()["total"]
        client.post("/v1/analyze", files={"file": ("pg.log", CASE.read_bytes())})
        unchanged = client.get("/v1/incidents", params={"domain": "database"}).json()["total"]
        stored = client.post(
            "/v1/analyze", params={"store": "true"}, files={"file": ("pg.log", CASE.read_bytes())}
        )
        after = client.get("/v1/incidents", params={"domain": "database"}).json()["total"]
    assert stored.status_code == 200
    assert before == unchanged == 0  # this module's server stores nothing else
    assert after >= 1


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"content": b"\x00\x01\x02binary" * 100}, "binary"),
        ({"content": b""}, "empty body"),
        ({"files": {"other": (None, "not a file")}}, "no file part"),
        ({"content": b"x", "params": {"format": "nope"}}, "unknown format"),
    ],
)
def test_bad_uploads_are_400(api: RunningApi, kwargs: dict[str, Any], words: str) -> None:
    with api.client() as client:
        response = client.post("/v1/analyze", **kwargs)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
