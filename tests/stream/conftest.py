"""Fixtures for the broker tests: real Redis and NATS JetStream servers on 127.0.0.1, a
throwaway PostgreSQL database, streams with unique names (deleted afterwards), and a way to
run ``aiops consume`` as its own process.

Servers: Redis on 127.0.0.1:6379 (``AIOPS_TEST_REDIS``), nats-server with JetStream on
127.0.0.1:4222 (``AIOPS_TEST_NATS``), PostgreSQL with trust auth on 127.0.0.1:5432
(``AIOPS_TEST_PG_URL``). A test needing one that does not answer is skipped, saying which;
with ``CI`` set it fails instead, because ``.ci/run`` starts them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from user_env import isolated_env

REDIS = os.environ.get("AIOPS_TEST_REDIS", "127.0.0.1:6379")
NATS = os.environ.get("AIOPS_TEST_NATS", "127.0.0.1:4222")
PG_SERVER = os.environ.get(
    "AIOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def unavailable(what: str) -> None:
    """Skip (or, in CI, fail) a test whose server does not answer."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}, and CI is set: .ci/run should have started it")
    pytest.skip(f"{what} (start it, or set CI=1 to make this a failure)")


def answers(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


# -- log lines ---------------------------------------------------------------------------------


def pg_log(count: int, *, every: int = 10) -> list[str]:
    """``count`` PostgreSQL log lines, one second apart: checkpoints and connections, and
    every ``every``-th a client turned away because all connection slots are taken."""
    lines = []
    for n in range(count):
        moment = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1795000000 + n))
        pid = 2000 + n % 97
        if n % every == every - 1:
            text = (
                f"[{pid}] shop@shopdb FATAL:  remaining connection slots are reserved for "
                "non-replication superuser connections"
            )
        elif n % 3 == 0:
            text = f"[{pid}] LOG:  checkpoint complete: wrote {n % 50} buffers"
        else:
            text = f"[{pid}] LOG:  connection authorized: user=app{n % 4} database=shopdb"
        lines.append(f"{moment}.{n % 1000:03d} UTC {text}")
    return lines


# -- Redis -------------------------------------------------------------------------------------


@dataclass
class RedisStream:
    key: str
    client: Any

    @property
    def url(self) -> str:
        return f"redis://{REDIS}/{self.key}"

    def publish(self, lines: Sequence[str], field: str = "line") -> None:
        pipe = self.client.pipeline(transaction=False)
        for line in lines:
            pipe.xadd(self.key, {field: line})
        pipe.execute()

    def pending(self, group: str) -> int:
        return int(self.client.xpending(self.key, group)["pending"])

    def lag(self, group: str) -> int:
        """Entries of the stream the group has not been delivered yet."""
        for info in self.client.xinfo_groups(self.key):
            if info["name"] in (group, group.encode()):
                return int(info.get("lag") or 0)
        raise KeyError(group)


@pytest.fixture
def redis_stream() -> Iterator[RedisStream]:
    if not answers(REDIS):
        unavailable(f"no Redis server answers at {REDIS}")
    import redis

    host, _, port = REDIS.rpartition(":")
    client = redis.Redis(host=host, port=int(port), socket_timeout=10)
    stream = RedisStream(unique("aiops-test"), client)
    try:
        yield stream
    finally:
        client.delete(stream.key)
        client.close()


# -- NATS JetStream --------------------------------------------------------------------------


@dataclass
class NatsStream:
    name: str
    subject: str

    @property
    def url(self) -> str:
        return f"nats://{NATS}/{self.subject}"

    def publish(self, lines: Sequence[str]) -> None:
        async def go(js: Any) -> None:
            for start in range(0, len(lines), 500):
                acks = [
                    js.publish(self.subject, line.encode()) for line in lines[start : start + 500]
                ]
                await asyncio.gather(*acks)

        _with_js(go)

    def consumer(self, group: str) -> tuple[int, int]:
        """(messages not yet delivered, messages delivered and not acknowledged)."""

        async def go(js: Any) -> tuple[int, int]:
            info = await js.consumer_info(self.name, group)
            return int(info.num_pending or 0), int(info.num_ack_pending or 0)

        result: tuple[int, int] = _with_js(go)
        return result


def _with_js(work: Any) -> Any:
    import nats

    async def main() -> Any:
        nc = await nats.connect(f"nats://{NATS}", connect_timeout=5, allow_reconnect=False)
        try:
            return await work(nc.jetstream(timeout=10))
        finally:
            await nc.close()

    return asyncio.run(main())


@pytest.fixture
def nats_stream() -> Iterator[NatsStream]:
    if not answers(NATS):
        unavailable(f"no NATS server answers at {NATS}")
    token = uuid.uuid4().hex[:10]
    stream = NatsStream(f"AIOPS_TEST_{token}", f"aiops.test.{token}")

    async def create(js: Any) -> None:
        await js.add_stream(name=stream.name, subjects=[stream.subject])

    async def delete(js: Any) -> None:
        await js.delete_stream(stream.name)

    try:
        _with_js(create)
    except Exception as exc:  # JetStream off, or another problem with the server
        unavailable(f"NATS at {NATS} has no usable JetStream ({exc})")
    try:
        yield stream
    finally:
        _with_js(delete)


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database made for this test and dropped after it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    server = make_url(PG_SERVER)
    try:
        admin = create_engine(
            server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as connection:
            name = unique("aiops_stream").replace("-", "_")
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (SQLAlchemyError, ImportError):
        unavailable(f"no PostgreSQL server answers at {server.render_as_string()}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- aiops consume as a process --------------------------------------------------------------


def cli_env(home: Path) -> dict[str, str]:
    return isolated_env(home)


class Consume:
    """``aiops -vv consume ARGS`` in its own process; its stderr is drained by a thread (so
    the process never blocks on a full pipe) and can be waited on."""

    def __init__(self, home: Path, *args: str, python_prelude: str | None = None) -> None:
        command = [sys.executable, "-m", "aiops_copilot", "-vv", "consume", *args]
        if python_prelude is not None:
            code = f"{python_prelude}\nfrom aiops_copilot.cli import main\nmain()"
            command = [sys.executable, "-c", code, "-vv", "consume", *args]
        self.proc = subprocess.Popen(
            command,
            cwd=home,
            env=cli_env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Wait until a stderr line contains ``text`` (AssertionError if the process ends)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                if not self._reader.is_alive():
                    raise AssertionError(
                        f"consume ended before saying {text!r}:\n{''.join(self.lines)}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"consume never said {text!r}:\n{''.join(self.lines)}")
                self._changed.wait(min(left, 0.5))

    def finish(self, timeout: float = 90) -> tuple[int, str, str]:
        """Wait for the process; (exit code, stdout, stderr)."""
        assert self.proc.stdout is not None
        self.proc.wait(timeout=timeout)  # stdout holds a few incident lines: no pipe fills
        out = self.proc.stdout.read()
        self._reader.join(timeout=10)
        return self.proc.returncode, out.decode("utf-8", "replace"), "".join(self.lines)


@pytest.fixture
def consumers() -> Iterator[list[Consume]]:
    """Processes a test starts; any still running at the end is killed."""
    started: list[Consume] = []
    yield started
    for item in started:
        if item.proc.poll() is None:
            item.proc.kill()
        item.proc.wait(timeout=30)
