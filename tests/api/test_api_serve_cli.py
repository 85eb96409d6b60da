"""``aiops serve`` as a user runs it: a real process, real sockets, real signals."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select

from aiops_copilot.store.schema import Run
from aiops_copilot.store.sql import Store
from api.api_server import eval_lines
from user_env import isolated_env

TOKEN = "cli-test-token"


def _env(folder: Path, **extra: str) -> dict[str, str]:
    return isolated_env(folder, AIOPS_MEMORY__ENABLED="false", **extra)


def _run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiops_copilot", "serve", *args],
        capture_output=True, text=True, cwd=folder, env=_env(folder, **env), timeout=120,
        check=False,
    )  # fmt: skip


@contextmanager
def _serving(folder: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``aiops serve`` started; yields it once it printed where it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiops_copilot", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=folder,
        env=_env(folder, AIOPS_API_TOKEN=TOKEN),
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "serving on" in line or "error" in line:
                break
        assert any("serving on" in line for line in lines), lines
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def test_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = _run(tmp_path, "--host", "0.0.0.0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "aiops: error: refusing to listen on 0.0.0.0 without a token: set AIOPS_API_TOKEN "
        "(or use 127.0.0.1)"
    ]


def test_bad_syslog_url_and_busy_port_are_one_line(tmp_path: Path) -> None:
    bad = _run(tmp_path, "--syslog", "carrier-pigeon://x")
    assert bad.returncode == 2
    assert bad.stderr.startswith("aiops: error: --syslog:") and bad.stderr.count("\n") == 1
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = _run(tmp_path, "--port", str(port))
    assert taken.returncode == 2
    assert taken.stderr.strip() == (
        f"aiops: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_without_the_serve_extra(tmp_path: Path) -> None:
    """With FastAPI missing, one line naming the extra to install."""
    shadow = tmp_path / "shadow" / "fastapi"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'fastapi'\", name='fastapi')\n"
    )
    result = _run(tmp_path, "--port", "0", PYTHONPATH=str(tmp_path / "shadow"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "aiops: error: aiops serve needs the serve extra (fastapi is missing): "
        "pip install 'aiops-copilot[serve]'"
    )


def test_serves_receives_syslog_and_drains_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    lines = eval_lines("network/nginx-upstream-connection-refused", "error.log")
    with _serving(tmp_path, "--db", str(db), "--syslog", "udp://127.0.0.1:0") as (proc, out):
        url = re.search(r"serving on (http://\S+)", out[-1])
        udp = re.search(r"syslog on syslog\+udp://127\.0\.0\.1:(\d+)", "".join(out))
        assert url and udp, out
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url.group(1), headers=headers, timeout=60) as client:
            assert client.get("/healthz").status_code == 200
            pushed = client.post("/v1/logs", content="\n".join(lines).encode())
            assert pushed.status_code == 202
            assert client.get("/v1/incidents", headers={"Authorization": ""}).status_code == 401
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for n in range(5):
                    message = f"<11>Nov 24 10:00:0{n} web1 app[42]: payment failed {n}"
                    sender.sendto(message.encode(), ("127.0.0.1", int(udp.group(1))))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                metrics = client.get("/metrics").text
                if 'aiops_ingest_records_total{endpoint="syslog"} 5.0' in metrics:
                    break
                time.sleep(0.1)
            assert 'aiops_ingest_records_total{endpoint="syslog"} 5.0' in metrics
        proc.send_signal(signal.SIGTERM)  # no flush asked: shutdown analyses what was accepted
        assert proc.wait(120) == 0
    with Store(db) as store, store.engine.connect() as connection:
        stored = connection.scalar(select(func.sum(Run.records)))
        incidents = store.incidents()
    assert stored == len(lines) + 5
    assert any(item.domain == "network" for item in incidents)


def test_loopback_addresses() -> None:
    from aiops_copilot.api.cli import is_loopback

    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "no-such-host.invalid"):
        assert not is_loopback(host), host
