"""``aiops consume`` end to end: real processes in one consumer group, a real broker, a real
store; one of them killed with SIGKILL after it fetched and before it acknowledged; and at
the end every published line counted exactly once in the store.

NATS JetStream with a PostgreSQL store (consumers of several machines share one), Redis
Streams with a SQLite file (consumers of one machine); SIGTERM, a dead broker, a missing
extra and bad options are one clean line each.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from sqlalchemy import func, select

from aiops_copilot.store.schema import ConsumedMessage, IncidentRow, Occurrence, Run
from aiops_copilot.store.schema import TemplateCountRow as Counts
from aiops_copilot.store.sql import Store

from .conftest import Consume, NatsStream, RedisStream, pg_log

LINES = 3000
FATAL = LINES // 10  # pg_log: every tenth line is a client turned away
#: Options every consumer here shares: small batches, a short ack_wait (2 s) so a killed
#: consumer's messages come back soon.
COMMON = ("--no-memory", "--batch", "200", "--poll", "0.2", "--ack-wait", "2")


def stored(db: str) -> dict[str, int]:
    """What the store holds from ``aiops consume``: records counted per template, runs'
    records, ledger rows, and the records of the connection-slots incident."""
    with Store(db) as store, store.engine.connect() as connection:
        consume = select(Run.id).where(Run.command == "consume")
        slots = select(IncidentRow.id).where(IncidentRow.title.contains("connection slots"))
        return {
            "templates": int(
                connection.scalar(
                    select(func.coalesce(func.sum(Counts.count), 0)).where(
                        Counts.run_id.in_(consume)
                    )
                )
                or 0
            ),
            "runs": int(connection.scalar(select(func.coalesce(func.sum(Run.records), 0))) or 0),
            "ledger": int(
                connection.scalar(select(func.count()).select_from(ConsumedMessage)) or 0
            ),
            "incident": int(
                connection.scalar(
                    select(func.coalesce(func.sum(Occurrence.count), 0)).where(
                        Occurrence.incident_id.in_(slots)
                    )
                )
                or 0
            ),
        }


def consumed(stderr: str) -> int:
    found = re.search(r"aiops: consumed ([\d,]+) message", stderr)
    assert found, stderr
    return int(found.group(1).replace(",", ""))


def test_nats_consumers_share_a_postgres_store_through_a_crash(
    tmp_path: Path, nats_stream: NatsStream, pg_url: str, consumers: list[Consume]
) -> None:
    """A fetches and is killed holding its messages (its window never ends); B stops after
    1,000 messages; C takes the rest, A's included once ack_wait has passed."""
    nats_stream.publish(pg_log(LINES))
    args = (nats_stream.url, "--db", pg_url, "--group", "shared", *COMMON)
    doomed = Consume(tmp_path, *args, "--consumer", "doomed", "--window", "3600")
    consumers.append(doomed)
    doomed.wait_for("fetched")
    first = Consume(
        tmp_path, *args, "--consumer", "first", "--window", "1", "--max-messages", "1000"
    )
    consumers.append(first)
    first.wait_for("fetched")
    os.kill(doomed.proc.pid, signal.SIGKILL)
    doomed.proc.wait(timeout=30)
    second = Consume(
        tmp_path, *args, "--consumer", "second", "--window", "1", "--exit-after-idle", "4"
    )
    consumers.append(second)
    code_first, _, err_first = first.finish()
    code_second, _, err_second = second.finish()
    assert (code_first, code_second) == (0, 0), err_first + err_second
    assert "Traceback" not in err_first + err_second
    assert 0 < consumed(err_first) <= 1000 and consumed(err_second) > 0
    assert consumed(err_first) + consumed(err_second) == LINES
    assert stored(pg_url) == {
        "templates": LINES,
        "runs": LINES,
        "ledger": LINES,
        "incident": FATAL,
    }
    assert nats_stream.consumer("shared") == (0, 0)  # everything delivered and acknowledged


def test_a_redis_consumer_killed_mid_batch_loses_and_doubles_nothing(
    tmp_path: Path, redis_stream: RedisStream, consumers: list[Consume]
) -> None:
    redis_stream.publish(pg_log(LINES))
    db = str(tmp_path / "store.db")
    args = (redis_stream.url, "--db", db, "--group", "g", *COMMON)
    doomed = Consume(tmp_path, *args, "--consumer", "doomed", "--window", "3600")
    consumers.append(doomed)
    doomed.wait_for("fetched")
    os.kill(doomed.proc.pid, signal.SIGKILL)
    doomed.proc.wait(timeout=30)
    assert redis_stream.pending("g") > 0  # fetched, never acknowledged
    heir = Consume(tmp_path, *args, "--consumer", "heir", "--window", "1", "--exit-after-idle", "4")
    consumers.append(heir)
    code, _, err = heir.finish()
    assert code == 0 and "Traceback" not in err, err
    assert consumed(err) == LINES
    assert stored(db) == {"templates": LINES, "runs": LINES, "ledger": LINES, "incident": FATAL}
    assert redis_stream.pending("g") == 0 and redis_stream.lag("g") == 0


def test_sigterm_stores_and_acknowledges_the_window_in_hand(
    tmp_path: Path, redis_stream: RedisStream, consumers: list[Consume]
) -> None:
    redis_stream.publish(pg_log(500))
    db = str(tmp_path / "store.db")
    consumer = Consume(tmp_path, redis_stream.url, "--db", db, *COMMON, "--window", "3600")
    consumers.append(consumer)
    consumer.wait_for("fetched")
    deadline = time.monotonic() + 30
    while redis_stream.lag("aiops") > 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # until everything is delivered (and held in the window)
    consumer.proc.send_signal(signal.SIGTERM)
    code, out, err = consumer.finish()
    assert code == 0 and "Traceback" not in err, err
    assert consumed(err) == 500 and "new INC-" in out
    assert stored(db)["templates"] == 500 and redis_stream.pending("aiops") == 0


def test_a_dead_broker_is_retried_then_one_line(tmp_path: Path, consumers: list[Consume]) -> None:
    db = str(tmp_path / "store.db")
    consumer = Consume(tmp_path, "redis://127.0.0.1:1/logs", "--db", db, "--exit-after-idle", "1.5")
    consumers.append(consumer)
    code, _, err = consumer.finish(timeout=60)
    assert code == 2 and "Traceback" not in err, err
    assert err.count("cannot connect") >= 3  # tried, said so, tried again, gave up
    assert "retrying in 1 s" in err and "retrying in 2 s" in err
    assert err.strip().splitlines()[-1] == (
        "aiops: error: gave up: redis://127.0.0.1:1/logs: cannot connect "
        "(is redis-server running there?)"
    )


def test_a_missing_client_library_names_its_extra(tmp_path: Path, consumers: list[Consume]) -> None:
    """nats-py made unimportable, as on an installation without the extra."""
    consumer = Consume(
        tmp_path,
        "nats://127.0.0.1:4222/logs",
        python_prelude="import sys; sys.modules['nats'] = None",
    )
    consumers.append(consumer)
    code, _, err = consumer.finish(timeout=60)
    assert code == 2 and err.strip().splitlines() == [
        "aiops: error: nats:// needs nats-py: pip install 'aiops-copilot[nats]'"
    ]


def test_bad_options_are_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (("amqp://h/logs",), "is not a broker URL"),
        (("redis://h/logs", "--group", "a.b"), "--group 'a.b': use letters"),
        (("redis://h/logs", "--consumer", "x y"), "--consumer 'x y': use letters"),
        (("redis://h/logs", "--log-format", "nope"), "unknown log format 'nope'"),
    ]
    for args, says in cases:
        result = run_cli("consume", *args)
        assert result.code == 2 and says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
