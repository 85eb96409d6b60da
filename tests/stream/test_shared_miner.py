"""One template state for a consumer group: replicas that mine different batches, in turn or
at once, end up with the templates one miner would have found mining every batch in the
order they were committed; a late replica catches up from the snapshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.models import LogRecord
from aiops_copilot.parsing.miner import MinerConfig, TemplateMiner
from aiops_copilot.parsing.record_mining import mine_record
from aiops_copilot.store.sql import Store
from aiops_copilot.stream.shared_miner import SharedMiner

DATA = Path(__file__).resolve().parents[1] / "data" / "loghub2k"


@pytest.fixture(scope="module")
def records() -> list[LogRecord]:
    """Four systems' samples, interleaved in batches of 50 (about 1,200 records)."""
    per_system = []
    for name in ("OpenSSH", "Apache", "HDFS", "Zookeeper"):
        run = open_inputs([str(DATA / f"{name}.log")])
        per_system.append(list(iter_records(run, ReadOptions())))
    out: list[LogRecord] = []
    for start in range(0, max(map(len, per_system)), 50):
        for items in per_system:
            out.extend(items[start : start + 50])
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def stores(url: str) -> Iterator[list[Store]]:
    """Three stores on one database: one per consumer, as separate processes would have."""
    opened = [Store(url) for _ in range(3)]
    yield opened
    for store in opened:
        store.close()


def batches(records: list[LogRecord], size: int = 100) -> list[list[LogRecord]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def templates(miner: TemplateMiner) -> dict[str, int]:
    return {cluster.template_id: cluster.count for cluster in miner.clusters}


def one_miner(ordered: list[list[LogRecord]]) -> dict[str, int]:
    miner = TemplateMiner(MinerConfig())
    for batch in ordered:
        for record in batch:
            mine_record(miner, record)
    return templates(miner)


def test_replicas_taking_turns_agree_with_one_miner(
    records: list[LogRecord], stores: list[Store]
) -> None:
    a = SharedMiner(stores[0], "g", MinerConfig())
    b = SharedMiner(stores[1], "g", MinerConfig())
    replayed: list[int] = []
    a._on_replay = lambda items: replayed.append(sum(count for _, count, _, _ in items))
    for number, batch in enumerate(batches(records)):
        pairs = (a if number % 2 == 0 else b).mine(batch)
        assert [record for record, _ in pairs] == batch
    a.sync()
    b.sync()
    expected = one_miner(batches(records))
    assert templates(a.miner) == templates(b.miner) == expected
    assert sum(expected.values()) == len(records)
    assert sum(replayed) == sum(len(x) for x in batches(records)[1::2])  # b's, replayed by a


def test_replicas_mining_at_once_agree_in_commit_order(
    records: list[LogRecord], stores: list[Store]
) -> None:
    """Two threads, two stores, one database: the row lock orders the batches; every replica
    ends with the templates of that order (read back from the journal's sequence)."""
    replicas = [SharedMiner(stores[i], "g", MinerConfig()) for i in range(2)]
    order: list[tuple[int, list[LogRecord]]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(replica: SharedMiner, mine: list[list[LogRecord]]) -> None:
        try:
            for batch in mine:
                replica.mine(batch)
                with lock:
                    order.append((replica.seq, batch))
        except BaseException as exc:  # reported below
            errors.append(exc)

    parts = batches(records, 60)
    threads = [threading.Thread(target=work, args=(replicas[i], parts[i::2])) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    for replica in replicas:
        replica.sync()
    committed = [batch for _, batch in sorted(order, key=lambda item: item[0])]
    assert [seq for seq, _ in sorted(order, key=lambda item: item[0])] == list(
        range(1, len(parts) + 1)
    )
    assert templates(replicas[0].miner) == templates(replicas[1].miner) == one_miner(committed)


def test_a_late_replica_loads_the_snapshot_and_catches_up(
    records: list[LogRecord], stores: list[Store]
) -> None:
    first = SharedMiner(stores[0], "g", MinerConfig(), snapshot_every=3, keep_behind=1)
    for batch in batches(records):
        first.mine(batch)
    reloaded: list[TemplateMiner] = []
    late = SharedMiner(stores[1], "g", MinerConfig(), on_reload=reloaded.append)
    late.sync()
    assert reloaded == [late.miner] and late.seq == first.seq
    assert set(templates(late.miner)) == set(templates(first.miner))
    assert templates(late.miner) == templates(first.miner)
    # Both go on mining and stay in step.
    tail = records[:150]
    late.mine(tail)
    first.sync()
    assert templates(late.miner) == templates(first.miner)


def test_a_replica_with_other_settings_takes_the_groups(stores: list[Store]) -> None:
    SharedMiner(stores[0], "g", MinerConfig(similarity=0.5)).sync()
    other = SharedMiner(stores[1], "g", MinerConfig(similarity=0.8, max_clusters=10))
    other.sync()
    assert (other.config.similarity, other.config.max_clusters) == (0.5, 50_000)
    assert other.miner.config.similarity == 0.5
    separate = SharedMiner(stores[2], "another-group", MinerConfig(similarity=0.8))
    separate.sync()
    assert separate.config.similarity == 0.8


def test_template_ids_read_mid_stream_follow_later_generalisation(
    records: list[LogRecord],
) -> None:
    """A snapshot reads every cluster's id; a position that later turns variable (``rhost=<IP>``
    then ``rhost=<HOST>``) must change those ids, or the snapshot's replicas and the live
    miner would disagree (the miner kept a stale cached id until this was fixed)."""
    miner = TemplateMiner(MinerConfig())
    for number, record in enumerate(records):
        mine_record(miner, record)
        if number % 100 == 0:
            miner.to_dict()  # reads (and caches) every template id
    fresh = TemplateMiner.from_dict(miner.to_dict(), MinerConfig())
    assert templates(miner) == templates(fresh)
