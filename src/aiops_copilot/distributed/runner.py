"""What ``aiops analyze --engine dask`` calls in place of the single-process collect step.

Kept apart from the CLI so that the command only swaps one function: the knowledge base,
miner (with its state file), baseline, store, memory, notifications and report are handled by
the same code for both engines.
"""

from __future__ import annotations

from aiops_copilot.config import DaskSettings
from aiops_copilot.detect.stats import StatsCollector
from aiops_copilot.distributed.cluster import DaskOptions, dask_client
from aiops_copilot.distributed.engine import collect_distributed
from aiops_copilot.distributed.progress import ClusterProgress
from aiops_copilot.ingest.reader import IngestRun, ReadOptions
from aiops_copilot.parsing.miner import TemplateMiner

__all__ = ["collect_on_dask", "dask_options"]

_MIB = 1024 * 1024


def dask_options(settings: DaskSettings) -> DaskOptions:
    return DaskOptions(
        scheduler=settings.scheduler,
        workers=settings.workers,
        partition_bytes=max(1, int(settings.partition_mib * _MIB)),
        retries=settings.retries,
        connect_timeout=settings.connect_timeout,
    )


def collect_on_dask(
    run: IngestRun,
    options: ReadOptions,
    miner: TemplateMiner,
    settings: DaskSettings,
    *,
    progress: bool | None = None,
    quiet: bool = False,
) -> StatsCollector:
    """Mine ``run`` on the configured cluster (started here when none is named). Raises
    :class:`~aiops_copilot.distributed.cluster.DaskUnavailable` or
    :class:`~aiops_copilot.distributed.engine.DaskRunFailed` with one line for the user.
    ``progress=None`` shows it when stderr is a terminal; ``False`` never."""
    config = dask_options(settings)
    with (
        dask_client(config) as client,
        ClusterProgress(enabled=progress, quiet=quiet) as shown,
    ):
        return collect_distributed(
            run,
            options,
            miner,
            client,
            partition_bytes=config.partition_bytes,
            retries=config.retries,
            stall_timeout=config.connect_timeout,
            progress=shown,
        )
