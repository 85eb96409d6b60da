"""``aiops dashboard`` as a user runs it: one-line errors before Streamlit starts, and a real
Streamlit server that answers on loopback and stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from user_env import isolated_env

pytest.importorskip("streamlit", reason="the dashboard extra (streamlit) is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_dashboard(db: Path, port: int, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aiops_copilot", "dashboard", "--db", str(db), "--port", str(port)],
        env=isolated_env(home),
        cwd=home.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until_up(port: int, proc: subprocess.Popen[bytes], limit: float = 60.0) -> None:
    """Poll Streamlit's health endpoint until it answers (or the process died)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer on port {port} within {limit:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def test_it_serves_the_store_on_loopback_and_stops_on_sigterm(
    filled_store: Path, tmp_path: Path
) -> None:
    port = free_port()
    proc = start_dashboard(filled_store, port, tmp_path / "home")
    try:
        wait_until_up(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        code = stop(proc)
    assert code == 0
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert f"aiops: dashboard on http://127.0.0.1:{port}" in err
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(2)
        probe.connect(("127.0.0.1", port))  # nothing listens any more: Streamlit stopped too


def _one_line_error(run_cli, *args: str, env: dict[str, str] | None = None) -> str:  # type: ignore[no-untyped-def]
    result = run_cli("dashboard", *args, env=env)
    assert result.code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiops: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


def test_a_database_that_is_not_one_is_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert "unsupported database 'mysql'" in _one_line_error(run_cli, "--db", "mysql://u@h/x")


def test_a_server_that_does_not_answer_is_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    line = _one_line_error(run_cli, "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "127.0.0.1" in line


def test_a_port_in_use_is_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line_error(run_cli, "--port", str(port), "--db", str(tmp_path / "x.db"))
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_without_the_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['streamlit'] = None; sys.argv = ['aiops', 'dashboard']; "
        "from aiops_copilot.cli import main; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env=isolated_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        "aiops: error: the dashboard needs Streamlit: pip install 'aiops-copilot[dashboard]'"
    )


def test_the_cli_does_not_import_streamlit(tmp_path: Path) -> None:
    """``aiops analyze`` and friends start without the dashboard's weight."""
    code = "import sys, aiops_copilot.cli; print('streamlit' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=isolated_env(tmp_path), timeout=60
    )
    assert proc.stdout.decode().strip() == "False", proc.stderr.decode()
