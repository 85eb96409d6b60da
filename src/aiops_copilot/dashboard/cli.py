"""``aiops dashboard``: run the Streamlit dashboard over the store until Ctrl-C or SIGTERM.

Streamlit runs in a child process (``streamlit run app.py``), headless, on 127.0.0.1 unless
told otherwise, without usage statistics; the store location travels in ``AIOPS_DB_URL``, the
variable every command already reads, so the app resolves it exactly as the CLI does. What can
be wrong is said in one line before Streamlit starts: the ``dashboard`` extra missing, a store
URL that is not one, a database server that does not answer, a port in use.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer

APP = Path(__file__).with_name("app.py")
INSTALL_HINT = "pip install 'aiops-copilot[dashboard]'"
#: Seconds Streamlit gets to stop after SIGTERM before it is killed.
STOP_GRACE_S = 10.0


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)


def dashboard(
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLite file or database URL to show. Default: AIOPS_DB_URL, store.url, "
            "~/.local/share/aiops/aiops.db.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Open the dashboard: incidents over time, the incident list and pages with feedback,
    templates with burst charts, and analysing an uploaded file, over the same store as the
    CLI and the API."""
    if not _has_streamlit():
        _fail(f"the dashboard needs Streamlit: {INSTALL_HINT}")
    location, note = _store_location(db)
    _check_port(host, port)
    if note:
        sys.stderr.write(f"aiops: note: {note}\n")
    if not _is_loopback(host):
        sys.stderr.write(
            f"aiops: warning: the dashboard has no login: anyone who reaches {host}:{port} "
            "can read incidents and give feedback\n"
        )
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
    ]
    env = {**os.environ, "AIOPS_DB_URL": location}
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"aiops: dashboard on http://{shown}:{port} (Ctrl-C stops it)\n")
    raise typer.Exit(_run(command, env))


def _has_streamlit() -> bool:
    """Whether the ``dashboard`` extra is installed, without importing it (a second or two)."""
    try:
        return importlib.util.find_spec("streamlit") is not None
    except (ImportError, ValueError):  # ValueError: a module entry without a spec
        return False


def _store_location(db: str | None) -> tuple[str, str | None]:
    """The store URL (password included: it goes to the child, not to the screen), checked;
    and a note when there is no store yet."""
    from aiops_copilot.cli import _load
    from aiops_copilot.store.location import StoreError, shown, sqlite_file, to_url

    settings = _load({"store.url": db}).settings.store
    try:
        url = to_url(settings.url)
    except StoreError as exc:
        _fail(str(exc))
    full = url.render_as_string(hide_password=False)
    path = sqlite_file(url)
    if path is None:
        from aiops_copilot.store.sql import Store

        try:
            Store(full, timeout=settings.timeout, create=False).close()
        except StoreError as exc:
            _fail(str(exc))
    elif not path.exists():
        return full, f"no store at {shown(url)} yet; analyses (or the Analyze page) make it"
    return full, None


def _check_port(host: str, port: int) -> None:
    """Fail in one line now rather than let Streamlit say it later, in several."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _die_with_parent() -> None:
    """In the child, before Streamlit starts (Linux): SIGTERM when ``aiops`` itself dies, even
    by SIGKILL, so no orphaned server keeps the port and the database open."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _run(command: list[str], env: dict[str, str]) -> int:
    """Run Streamlit until it exits; Ctrl-C and SIGTERM stop it cleanly (it is killed if it
    has not stopped after :data:`STOP_GRACE_S`)."""
    child = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
    )

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
