"""Streaming from a broker: how fast ``aiops consume`` drains a backlog, with 1 and 2 consumers.

N raw log lines (the Loghub-2k samples shipped with the tests: 16 systems, cycled, one line
per message) are published to a Redis stream and to a NATS JetStream stream; then 1 or 2
``aiops consume --no-memory`` processes of one group drain it into a throwaway store (SQLite
by default, ``--pg URL`` for a PostgreSQL server as well). The clock runs from the moment
every consumer said it was ready to the moment the ledger holds all N messages (every window
stored); start-up is not counted. Then the store is checked: the records counted in template
counts and the ledger rows must both equal N (each line counted once).

Consumers: ``--window 2 --max-window-records 50000 --batch 1000``. Both consumers run on the
same machine as the brokers and the store, sharing its CPUs.

``python bench/consume_load.py [--lines 200000] [--brokers redis,nats] [--pg URL]
[--write docs/benchmarks.md]``; a broker that does not answer is skipped, saying so.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub2k"
REDIS = ("127.0.0.1", 6379)
NATS = ("127.0.0.1", 4222)
CONSUMER_ARGS = (
    "--no-memory", "--window", "2", "--max-window-records", "50000", "--batch", "1000",
    "--ack-wait", "120", "--exit-after-idle", "4",
)  # fmt: skip


@dataclass
class Result:
    broker: str
    store: str
    consumers: int
    lines: int
    publish_seconds: float
    seconds: float = 0.0
    counted: int = 0
    ledger: int = 0
    per_consumer: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    @property
    def once(self) -> bool:
        return self.counted == self.lines == self.ledger and not self.errors


def corpus(total: int) -> list[str]:
    """``total`` raw lines, the 16 systems taking turns line by line."""
    systems = []
    for path in sorted(DATA.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        systems.append(itertools.cycle([line for line in lines if line.strip()]))
    turns = itertools.cycle(systems)
    return [next(next(turns)) for _ in range(total)]


def answers(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


# -- brokers ---------------------------------------------------------------------------------


def publish_redis(key: str, lines: list[str]) -> str:
    import redis

    client = redis.Redis(*REDIS)
    for start in range(0, len(lines), 5000):
        pipe = client.pipeline(transaction=False)
        for line in lines[start : start + 5000]:
            pipe.xadd(key, {"line": line})
        pipe.execute()
    client.close()
    return f"redis://{REDIS[0]}:{REDIS[1]}/{key}"


def drop_redis(key: str) -> None:
    import redis

    client = redis.Redis(*REDIS)
    client.delete(key)
    client.close()


async def _nats(work: Any) -> Any:
    import nats

    nc = await nats.connect(f"nats://{NATS[0]}:{NATS[1]}")
    try:
        return await work(nc.jetstream(timeout=30))
    finally:
        await nc.close()


def publish_nats(name: str, lines: list[str]) -> str:
    subject = f"bench.{name.lower()}"

    async def work(js: Any) -> None:
        await js.add_stream(name=name, subjects=[subject])
        for start in range(0, len(lines), 2000):
            batch = lines[start : start + 2000]
            await asyncio.gather(*(js.publish(subject, line.encode()) for line in batch))

    asyncio.run(_nats(work))
    return f"nats://{NATS[0]}:{NATS[1]}/{subject}"


def drop_nats(name: str) -> None:
    async def work(js: Any) -> None:
        await js.delete_stream(name)

    asyncio.run(_nats(work))


# -- the store -------------------------------------------------------------------------------


def ledger_rows(store: Any) -> int:
    from sqlalchemy import func, select

    from aiops_copilot.store.schema import ConsumedMessage

    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(ConsumedMessage)) or 0)


def counted_records(url: str) -> int:
    from sqlalchemy import func, select

    from aiops_copilot.store.schema import TemplateCountRow
    from aiops_copilot.store.sql import Store

    with Store(url) as store, store.engine.connect() as connection:
        total = connection.scalar(select(func.coalesce(func.sum(TemplateCountRow.count), 0)))
        return int(total or 0)


def pg_database(server: str) -> tuple[str, Any]:
    """A new database on ``server`` and a function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server)
    name = f"aiops_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


# -- one run ---------------------------------------------------------------------------------


class Consumer:
    """``aiops consume`` in its own process, stderr drained by a thread."""

    def __init__(self, url: str, db: str, name: str, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), NO_COLOR="1")
        command = [sys.executable, "-m", "aiops_copilot", "consume", url, "--db", db]
        self.proc = subprocess.Popen(
            [*command, "--group", "bench", "--consumer", name, *CONSUMER_ARGS],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=home,
        )  # fmt: skip
        self.ready = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if line.startswith("aiops: consuming "):
                self.ready.set()

    def consumed(self) -> int:
        for line in self.lines:
            found = re.search(r"aiops: consumed ([\d,]+) message", line)
            if found:
                return int(found.group(1).replace(",", ""))
        return 0


def run(broker: str, store: str, consumers: int, lines: list[str], pg: str | None) -> Result:
    token = uuid.uuid4().hex[:8]
    name = f"BENCH_{token}"
    started = time.perf_counter()
    url = publish_redis(name, lines) if broker == "redis" else publish_nats(name, lines)
    result = Result(broker, store, consumers, len(lines), time.perf_counter() - started)
    drop_db = None
    with tempfile.TemporaryDirectory(prefix="aiops-consume-") as tmp:
        home = Path(tmp)
        db = str(home / "store.db")
        if store == "postgresql":
            assert pg is not None
            db, drop_db = pg_database(pg)
        procs: list[Consumer] = []
        try:
            procs = [Consumer(url, db, f"c{n}", home) for n in range(consumers)]
            for proc in procs:
                if not proc.ready.wait(120):
                    raise RuntimeError("a consumer did not start: " + "".join(proc.lines))
            from aiops_copilot.store.sql import Store

            with Store(db) as store:  # one connection, polled twice a second
                clock = time.perf_counter()
                while ledger_rows(store) < len(lines):
                    if all(p.proc.poll() is not None for p in procs):
                        result.errors.append("consumers ended before storing everything")
                        break
                    time.sleep(0.5)
                result.seconds = time.perf_counter() - clock
                for proc in procs:
                    proc.proc.wait(timeout=300)
                    if proc.proc.returncode != 0:
                        result.errors.append("".join(proc.lines[-3:]))
                result.per_consumer = [p.consumed() for p in procs]
                result.counted, result.ledger = counted_records(db), ledger_rows(store)
        finally:
            for proc in procs:
                if proc.proc.poll() is None:
                    proc.proc.kill()
            if broker == "redis":
                drop_redis(name)
            else:
                drop_nats(name)
            if drop_db is not None:
                drop_db()
    return result


def line_of(result: Result) -> str:
    split = " + ".join(f"{n:,}" for n in result.per_consumer)
    return (
        f"{result.broker}, {result.store}, {result.consumers} consumer(s): {result.lines:,} lines "
        f"in {result.seconds:.1f} s = {result.rate:,.0f} lines/s (messages per consumer: "
        f"{split}); counted {result.counted:,}, ledger {result.ledger:,}: "
        + ("each line once" if result.once else f"WRONG {result.errors}")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--brokers", default="redis,nats")
    parser.add_argument("--pg", help="also run with a store on this PostgreSQL server URL")
    parser.add_argument("--write", type=Path, help="update this benchmarks Markdown file")
    args = parser.parse_args()
    args.load = os.getloadavg()[0]
    lines = corpus(args.lines)
    stores = ["sqlite", *(["postgresql"] if args.pg else [])]
    results: list[Result] = []
    skipped: list[str] = []
    for broker in args.brokers.split(","):
        address = REDIS if broker == "redis" else NATS
        if not answers(address):
            skipped.append(f"{broker} (nothing answers at {address[0]}:{address[1]})")
            print(f"skipped {skipped[-1]}", flush=True)
            continue
        for store in stores:
            for consumers in (1, 2):
                results.append(run(broker, store, consumers, lines, args.pg))
                print(line_of(results[-1]), flush=True)
    ok = all(r.once for r in results)
    if args.write and results:
        _write(args, results, skipped, ok)
    return 0 if ok else 1


def _write(args: argparse.Namespace, results: list[Result], skipped: list[str], ok: bool) -> None:
    from bench_doc import markdown_table, update_section

    table = markdown_table(
        ["broker", "store", "consumers", "lines", "drained in", "lines/s", "per consumer",
         "counted = ledger"],
        [
            (
                r.broker, r.store, r.consumers, r.lines, f"{r.seconds:.1f} s", f"{r.rate:,.0f}",
                " + ".join(f"{n:,}" for n in r.per_consumer),
                f"{r.counted:,} = {r.ledger:,}" if r.once else "WRONG",
            )
            for r in results
        ],
    )  # fmt: skip
    body = "\n".join(
        [
            f"{args.lines:,} raw Loghub-2k lines (16 systems taking turns, one line per "
            "message) published to a Redis stream and a NATS JetStream stream, then drained by "
            "1 or 2 `aiops consume --no-memory --window 2 --batch 1000` processes of one "
            "group into a throwaway store. Timed from every consumer's ready line to the last "
            "window stored (all N messages in the ledger); start-up not included. Command: "
            "`python bench/consume_load.py --write docs/benchmarks.md`"
            + (" (with `--pg URL` for the PostgreSQL rows)" if args.pg else "")
            + f". Machine: {os.cpu_count()} CPUs shared by the broker, the store and the "
            f"consumers (load average {args.load:.1f} when the run began).",
            "",
            *table,
            "",
            "Every run counted each line exactly once (template counts and ledger rows equal "
            "the lines published)."
            if ok
            else "A run counted lines WRONGLY: see the table.",
            *([f"Skipped: {', '.join(skipped)}."] if skipped else []),
        ]
    )
    update_section(args.write, "consume_load", body)


if __name__ == "__main__":
    raise SystemExit(main())
