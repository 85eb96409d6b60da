"""The Dask engine's collect step: partitions out to the workers, one collector back.

:func:`collect_distributed` is the distributed twin of :func:`aiops_copilot.analysis.collect`
and returns the same thing, a :class:`StatsCollector` over the whole input, with the run's
miner holding every template. Everything after it — detection, grouping, classification,
diagnosis, store, memory, report — is the single-process code, run once in the driver on the
merged statistics (:func:`aiops_copilot.analysis.conclude`): those stages work per template,
not per line, so they are cheap, and running them on the merged statistics gives exactly the
incidents a single-process run finds, instead of partial incidents to reconcile.

Fault tolerance is Dask's: a task that raises is retried (``retries``), and the tasks of a
worker that dies are rescheduled by the scheduler on the others (a local cluster's nanny also
restarts the dead worker). The driver never blocks without a timeout: if no partition finishes
and no worker is left for ``connect_timeout`` seconds, the run stops with one line.

What may differ from a single-process run, and why (everything else is the same, and the
tests check it):

* the evidence lines sampled per template (the first lines are kept in input order, the
  every-7th "latest" sample counts per sequence in a partition, not per template);
* counters capped at 200 distinct values (hosts, entities ...) may put different values into
  "(other)" beyond the cap;
* when the miner's bounds are exceeded — more than ``max_clusters`` live templates (LRU
  eviction follows partitions, not lines) or a sequence cache overflow (200,000 distinct
  sequences) — templates may differ, as they would between two line orders.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from loguru import logger

from aiops_copilot.detect.stats import StatsCollector
from aiops_copilot.distributed.cluster import DaskUnavailable, worker_count
from aiops_copilot.distributed.merge import PartitionMerger
from aiops_copilot.distributed.plan import DEFAULT_PARTITION_BYTES, plan_partitions
from aiops_copilot.distributed.progress import ClusterProgress
from aiops_copilot.distributed.task import Partition, PartitionResult, mine_partition
from aiops_copilot.ingest.reader import IngestRun, ReadOptions
from aiops_copilot.parsing.miner import TemplateMiner

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["DaskRunFailed", "collect_distributed"]

#: How often the driver looks up from waiting to check that workers are still there.
_POLL_SECONDS = 2.0


class DaskRunFailed(Exception):
    """A partition could not be processed even after retries; one line for the user."""


def collect_distributed(
    run: IngestRun,
    options: ReadOptions,
    miner: TemplateMiner,
    client: Client,
    *,
    partition_bytes: int = DEFAULT_PARTITION_BYTES,
    retries: int = 2,
    stall_timeout: float = 10.0,
    progress: ClusterProgress | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> StatsCollector:
    """Mine ``run`` on the cluster behind ``client`` into ``miner``; the statistics of the
    whole input, as :func:`aiops_copilot.analysis.collect` would have gathered them.

    Standard input cannot be read by a worker: it is read here, as one partition, while the
    workers process the files. ``on_result`` sees each result as it arrives (tests use it to
    kill a worker mid-run).
    """
    partitions = plan_partitions(run, options, partition_bytes)
    collector = StatsCollector()
    merger = PartitionMerger(run, miner, collector, len(partitions))
    progress = progress or ClusterProgress(enabled=False)
    progress.begin(len(partitions))
    config = miner.config
    remote = [p for p in partitions if p.source.path is not None]
    local = [p for p in partitions if p.source.path is None]
    run_id = uuid.uuid4().hex[:8]
    futures: dict[Future[PartitionResult], Partition] = {
        client.submit(
            mine_partition,
            partition,
            options,
            config,
            key=f"aiops-{run_id}-{partition.index}",
            retries=retries,
            pure=False,
            priority=-partition.index,  # input order first: the merge waits on early parts
        ): partition
        for partition in remote
    }
    logger.info(
        "dask: {} partitions of {} sources on {} workers",
        len(partitions),
        len(run.sources),
        worker_count(client),
    )

    def take(result: PartitionResult) -> None:
        _check_readable(result, partitions[result.index])
        progress.add(result)
        merger.add(result)
        if on_result is not None:
            on_result(result)

    try:
        for partition in local:
            take(mine_partition(partition, options, config))
        _gather(client, futures, take, stall_timeout)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:  # a failed run: free the cluster (it may already be gone)
            with suppress(OSError, TimeoutError, RuntimeError):
                client.cancel(pending)
    merger.finish()
    logger.info("dask: {}", progress.summary())
    return collector


def _gather(
    client: Client,
    futures: dict[Future[PartitionResult], Partition],
    take: Callable[[PartitionResult], None],
    stall_timeout: float,
) -> None:
    """Hand each finished result to ``take`` as it completes; fail on a lost partition or a
    cluster left without workers."""
    from distributed import wait

    pending = set(futures)
    quiet_since = time.monotonic()
    while pending:
        try:
            with client.as_current():
                done, pending = wait(pending, _POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        if not done:
            if worker_count(client) > 0:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > stall_timeout:
                raise DaskUnavailable(
                    f"every Dask worker left and none came back within {stall_timeout:g} s"
                )
            continue
        for future in done:
            status = future.status
            if status in ("error", "cancelled"):
                raise DaskRunFailed(_failure(futures[future], future))
            try:
                if status != "finished":
                    raise TimeoutError  # lost with its worker since: being recomputed
                result = future.result(timeout=_POLL_SECONDS)
            except TimeoutError:
                pending.add(future)
                continue
            take(result)
            future.release()
        quiet_since = time.monotonic()


def _check_readable(result: PartitionResult, partition: Partition) -> None:
    """A worker that cannot open a file this machine can read would silently leave it out:
    the workers do not see the files at the same paths. Stop with one line instead."""
    error = result.report.stats.error or ""
    path = partition.source.path
    if not error.startswith("cannot open") or path is None or result.worker == "driver":
        return
    try:
        with path.open("rb"):
            pass
    except OSError:
        return  # unreadable here too: reported like any unreadable file
    reason = error.removeprefix("cannot open: ")
    raise DaskRunFailed(
        f"dask: worker {result.worker} cannot open {path} ({reason}); the workers must see "
        "the logs at the same paths as this machine"
    )


def _failure(partition: Partition, future: Future[PartitionResult]) -> str:
    where = partition.source.name
    if partition.span is not None:
        where += f" (part {partition.part + 1})"
    try:
        error = future.exception(timeout=5)
    except Exception as exc:  # the reason itself could not be fetched
        error = exc
    reason = f"{type(error).__name__}: {error}" if error is not None else future.status
    return f"dask: {where} failed after retries: {reason}".splitlines()[0]
