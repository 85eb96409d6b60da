"""The Dask engine on a real local cluster: a scheduler and two worker processes.

The same incidents (fingerprint ids), domains, template ids and counts, summary and sessions as
the single-process run on the same input; and the same again when a worker process is killed
while the run is under way (the scheduler reschedules its partitions on the other worker, the
nanny starts a new one).
"""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from aiops_copilot.distributed.engine import DaskRunFailed
from aiops_copilot.distributed.task import PartitionResult
from dask_cluster.dask_support import EXAMPLES, LOGHUB, first_lines, must_match, partitioned, single

PATHS = [LOGHUB, EXAMPLES]


def test_the_cluster_finds_what_one_process_finds(dask_client: Any) -> None:
    expected = single(PATHS, cached=True)
    seen: set[str] = set()
    got = partitioned(
        PATHS, dask_client, partition_bytes=16384, on_result=lambda r: seen.add(r.worker)
    )
    assert must_match(got) == must_match(expected)
    assert first_lines(got) == first_lines(expected)
    assert len(seen) == 2 and "driver" not in seen  # both worker processes took part
    assert got.result.incidents and {i.fingerprint for i in got.result.incidents} == {
        i.fingerprint for i in expected.result.incidents
    }


def test_a_killed_worker_loses_no_partition(dask_client: Any) -> None:
    expected = single(PATHS, cached=True)
    pids: dict[str, int] = dask_client.run(os.getpid)
    killed: list[int] = []

    def kill_a_busy_worker(result: PartitionResult) -> None:
        if killed:
            return
        busy = [address for address, keys in dask_client.processing().items() if keys]
        victim = pids[busy[0]] if busy else next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    # Small partitions: dozens are still queued or running when the first one comes back.
    got = partitioned(PATHS, dask_client, partition_bytes=8192, on_result=kill_a_busy_worker)
    assert killed, "no worker was killed"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # it really is gone
    assert must_match(got) == must_match(expected)
    # The nanny replaces the dead worker; the next test gets two workers again.
    dask_client.wait_for_workers(2, timeout=60)


def test_a_file_the_workers_cannot_see_stops_the_run(dask_client: Any) -> None:
    # /proc/self/fd/900 is this process's own descriptor: readable here, absent in a worker,
    # as a path on a disk only this machine mounts would be.
    log = EXAMPLES / "postgres" / "postgresql-15-main.log"
    fd = os.open(log, os.O_RDONLY)
    high = os.dup2(fd, 900)
    try:
        with pytest.raises(DaskRunFailed) as failed:
            partitioned([f"/proc/self/fd/{high}"], dask_client, partition_bytes=1 << 20)
    finally:
        os.close(high)
        os.close(fd)
    message = str(failed.value)
    assert "cannot open /proc/self/fd/900 (no such file or directory)" in message
    assert "the same paths" in message and "\n" not in message
