"""``aiops serve``: run the API server (uvicorn) until Ctrl-C or SIGTERM.

Everything that can be wrong with the command line is found before the server starts and
said in one line: the ``serve`` extra missing, a non-loopback address without a token, a
port in use, a store that cannot be opened, a bad syslog URL. The listening socket is bound
here, not by uvicorn, for that reason. On shutdown the ingest queue is drained and the last
window analysed before the process exits.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from aiops_copilot.api.options import ServeOptions

TOKEN_ENV = "AIOPS_API_TOKEN"
INSTALL_HINT = "pip install 'aiops-copilot[serve]'"


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8080,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLite file or database URL for the incidents. Default: AIOPS_DB_URL, "
            "store.url, ~/.local/share/aiops/aiops.db.",
            show_default=False,
        ),
    ] = None,
    syslog: Annotated[
        list[str] | None,
        typer.Option(
            "--syslog",
            help="Also receive syslog: udp://HOST:PORT or tcp://HOST:PORT (repeatable).",
        ),
    ] = None,
    window: Annotated[
        float,
        typer.Option("--window", help="Seconds of logs per analysis window.", min=1.0),
    ] = 60.0,
    queue: Annotated[
        int,
        typer.Option("--queue", help="Records waiting beyond which pushes get 429.", min=1),
    ] = 100_000,
    max_body: Annotated[
        int, typer.Option("--max-body", help="Largest ingest body, MiB.", min=1, max=1024)
    ] = 10,
    max_upload: Annotated[
        int, typer.Option("--max-upload", help="Largest /v1/analyze upload, MiB.", min=1)
    ] = 100,
    no_memory: Annotated[
        bool, typer.Option("--no-memory", help="Neither cite runbooks nor remember incidents.")
    ] = False,
) -> None:
    """Serve the REST API: log ingestion (NDJSON/text, Loki, Elasticsearch bulk, OTLP),
    incidents, feedback, uploads, Prometheus metrics. Set AIOPS_API_TOKEN to require a token
    (required to listen beyond loopback)."""
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    if token is None and not is_loopback(host):
        _fail(f"refusing to listen on {host} without a token: set {TOKEN_ENV} (or use 127.0.0.1)")
    urls = tuple(syslog or ())
    for url in urls:
        _check_syslog(url)
    from aiops_copilot.cli import _load

    loaded = _load({"store.url": db, "memory.enabled": False if no_memory else None})
    sock = _bind(host, port)  # before the slow imports: a busy port is said at once
    try:
        import uvicorn

        from aiops_copilot.api.app import create_app
        from aiops_copilot.api.options import MIB, ServeOptions
    except ImportError as exc:
        sock.close()
        _fail(f"aiops serve needs the serve extra ({exc.name} is missing): {INSTALL_HINT}")
    options = ServeOptions(
        settings=loaded.settings,
        token=token,
        max_body_bytes=max_body * MIB,
        max_upload_bytes=max_upload * MIB,
        queue_records=queue,
        window_seconds=window,
        syslog=urls,
    )
    app = create_app(options)
    state = app.state.server
    try:
        state.start()
    except Exception as exc:
        sock.close()
        _fail(f"cannot start: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    for receiver in state.syslog_servers:
        sys.stderr.write(f"aiops: receiving syslog on {receiver.source}\n")
    where = _shown(sock)
    sys.stderr.write(
        f"aiops: serving on http://{where} (window {window:g} s){_store_line(options)}\n"
    )
    sys.stderr.flush()
    config = uvicorn.Config(
        app,
        log_level="info" if loaded.settings.verbosity else "warning",
        access_log=loaded.settings.verbosity >= 2,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    _run_until_stopped(uvicorn.Server(config), sock, state.stop)


class _Stopped(Exception):
    """SIGINT or SIGTERM, once uvicorn has shut down gracefully (it re-raises the signal)."""


def _stopped(_signum: int, _frame: Any) -> None:
    raise _Stopped


def _run_until_stopped(server: Any, sock: socket.socket, stop: Any) -> None:
    """Serve until a signal; uvicorn drains and runs the app's shutdown (the last window),
    then re-raises the signal, which ends here as a clean exit 0 instead of a kill."""
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop()  # a no-op after a graceful shutdown; otherwise nothing accepted is lost
        sock.close()


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback address."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one line saying why not (in use, no such address)."""
    name = host.strip().strip("[]")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.set_inheritable(True)
    return sock


def _check_syslog(url: str) -> None:
    from aiops_copilot.live.syslog import parse_url

    try:
        parse_url(url)
    except ValueError as exc:
        _fail(f"--syslog: {exc}")


def _shown(sock: socket.socket) -> str:
    address: Any = sock.getsockname()
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _store_line(options: ServeOptions) -> str:
    store = options.settings.store
    if not store.enabled:
        return "; no store"
    from aiops_copilot.store.location import shown, to_url

    return f"; store {shown(to_url(store.url))}"
