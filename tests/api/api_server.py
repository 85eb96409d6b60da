"""A real ``aiops serve`` application on a free loopback port, in a thread, for the tests.

The app is the one ``aiops serve`` builds (``create_app``) under uvicorn on a socket bound
here (port 0: the kernel picks a free one, no race), with a throwaway SQLite store and no
vector memory (memory has its own tests; here it would only cost start-up time).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from aiops_copilot.api.app import create_app
from aiops_copilot.api.options import ServeOptions
from aiops_copilot.api.state import ServerState
from aiops_copilot.config import MemorySettings, Settings, StoreSettings

EVALS = Path(__file__).resolve().parents[1] / "evals"


def api_settings(folder: Path) -> Settings:
    return Settings(
        store=StoreSettings(url=str(folder / "store.db")),
        memory=MemorySettings(enabled=False),
    )


@dataclass
class RunningApi:
    url: str
    state: ServerState
    headers: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **kwargs)

    def flush(self) -> dict[str, Any]:
        with self.client() as client:
            response = client.post("/v1/flush")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def metric(self, name: str, **labels: str) -> float:
        """One sample of ``/metrics`` (0 when absent)."""
        with self.client() as client:
            text = client.get("/metrics").text
        wanted = name + (
            "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else ""
        )
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            if _same_sample(key, wanted):
                return float(value)
        return 0.0


def _same_sample(key: str, wanted: str) -> bool:
    if "{" not in key or "{" not in wanted:
        return key == wanted
    name, _, rest = key.partition("{")
    wanted_name, _, wanted_rest = wanted.partition("{")
    return name == wanted_name and sorted(rest.rstrip("}").split(",")) == sorted(
        wanted_rest.rstrip("}").split(",")
    )


@contextmanager
def running_api(options: ServeOptions) -> Iterator[RunningApi]:
    """Serve ``options`` until the block ends; shutdown drains the queue like SIGTERM does."""
    app = create_app(options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    headers = {"Authorization": f"Bearer {options.token}"} if options.token else {}
    try:
        yield RunningApi(f"http://127.0.0.1:{port}", app.state.server, headers)
    finally:
        server.should_exit = True
        thread.join(120)
        sock.close()


def options_for(folder: Path, **changes: Any) -> ServeOptions:
    return replace(ServeOptions(settings=api_settings(folder)), **changes)


def eval_lines(case: str, log: str) -> list[str]:
    """The lines of one real failure's log (tests/evals)."""
    text = (EVALS / case / "logs" / log).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]
