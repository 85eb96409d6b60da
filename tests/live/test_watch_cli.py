"""``aiops watch`` end to end: a real process following real files and a real syslog socket,
with incidents landing in the SQLite store that ``aiops incidents list`` reads."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_copilot.store.sql import Store
from user_env import isolated_env

from .conftest import pg_lines

CASE = Path(__file__).parents[1] / "evals" / "database" / "postgres-connection-leak-slots-exhausted"


def _env(home: Path) -> dict[str, str]:
    return isolated_env(home)


class Watch:
    """``aiops watch ARGS`` running in ``home``; ``wait_ready`` returns once it listens."""

    def __init__(self, home: Path, *args: str) -> None:
        self.home = home
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiops_copilot", "watch", *args],
            cwd=home,
            env=_env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stderr: list[str] = []

    def wait_ready(self) -> None:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.proc.stderr.readline().decode()
            assert text, f"watch ended before it was ready: {self.stderr}"
            self.stderr.append(text)
            if text.startswith("aiops: watching "):
                return
        raise AssertionError("watch never said it was ready")

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out.decode(), "".join(self.stderr) + err.decode()


@pytest.fixture
def watches(tmp_path: Path) -> Iterator[list[Watch]]:
    started: list[Watch] = []
    yield started
    for watch in started:
        if watch.proc.poll() is None:
            watch.proc.kill()
            watch.proc.wait()


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiops_copilot", *args],
        cwd=home, env=_env(home), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def stored(home: Path) -> list[dict[str, object]]:
    listed = cli(home, "incidents", "list", "--db", "store.db", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_watch_finds_failures_in_files_as_they_are_written_and_in_syslog(
    tmp_path: Path, watches: list[Watch]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    port = _free_udp_port()
    watch = Watch(
        tmp_path, "logs", "--syslog", f"udp://127.0.0.1:{port}", "--window", "1",
        "--exit-after-idle", "2", "--no-memory", "--db", "store.db",
        "--state-file", "positions.json",
    )  # fmt: skip
    watches.append(watch)
    watch.wait_ready()
    # The service and its database start writing only now; the follower must find the
    # new files and read them from their first line.
    for name in ("postgresql.log", "order-report-svc.log"):
        lines = (CASE / "logs" / name).read_text().splitlines(keepends=True)
        with (logs / name).open("a") as out:
            for start in range(0, len(lines), 60):
                out.writelines(lines[start : start + 60])
                out.flush()
                time.sleep(0.02)
    # A database host that reports over syslog runs out of connections too.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for n in range(12):
            client.sendto(
                f"<11>Nov 23 23:23:{10 + n:02d} db1 mysqld[{2100 + n}]: [ERROR] Too many "
                "connections".encode(),
                ("127.0.0.1", port),
            )
        client.sendto(b"this is not syslog", ("127.0.0.1", port))
    code, out, err = watch.finish()
    assert code == 0, err
    printed = [line.split() for line in out.splitlines()]
    assert printed and all(words[1] == "new" and words[2].startswith("INC-") for words in printed)
    incidents = stored(tmp_path)
    assert {i["id"] for i in incidents} == {words[2] for words in printed}
    titles = " | ".join(str(i["title"]) for i in incidents)
    assert "PostgreSQL: no free connection slots" in titles
    assert "MySQL" in titles or "MariaDB" in titles, titles
    assert "1 malformed syslog message(s) skipped" in err
    positions = json.loads((tmp_path / "positions.json").read_text())["files"]
    assert {Path(p).name for p in positions} == {"postgresql.log", "order-report-svc.log"}


def test_sigterm_concludes_the_window_and_a_restart_reads_nothing_twice(
    tmp_path: Path, watches: list[Watch], base_time: object
) -> None:
    log = tmp_path / "pg.log"
    log.write_text("")
    args = ("pg.log", "--window", "3600", "--no-memory", "--db", "store.db",
            "--state-file", "positions.json")  # fmt: skip
    watch = Watch(tmp_path, *args)
    watches.append(watch)
    watch.wait_ready()
    log.write_text("\n".join(pg_lines(base_time)) + "\n")  # type: ignore[arg-type]
    time.sleep(2.0)  # read, and quiet long enough for the last record to be complete
    watch.proc.send_signal(signal.SIGTERM)
    code, out, err = watch.finish()
    assert code == 0, err
    assert "watched 35 record(s) in 1 window(s): 1 new" in err
    assert len(out.splitlines()) == 1 and " new INC-" in out
    with Store(tmp_path / "store.db", create=False) as store:
        assert [i.id for i in store.incidents()] == [out.split()[2]]
    again = Watch(tmp_path, *args, "--exit-after-idle", "1")
    watches.append(again)
    code, _out, err = again.finish()
    assert code == 0, err
    assert "watched 0 record(s)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to watch"),
        (("-",), "watch follows files"),
        (("--syslog", "http://127.0.0.1:1"), "udp://HOST:PORT"),
        (("x.log", "--db", "a.db", "--no-store"), "contradict"),
        (("x.log", "--log-format", "nope"), "unknown log format"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = cli(tmp_path, "watch", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("aiops: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_syslog_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = cli(tmp_path, "watch", "--syslog", f"udp://127.0.0.1:{port}", "--no-memory",
                     "--db", "store.db")  # fmt: skip
    assert result.returncode == 2
    assert "aiops: error: syslog: cannot listen on" in result.stderr
    assert "Traceback" not in result.stderr
