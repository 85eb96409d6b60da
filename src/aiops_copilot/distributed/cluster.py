"""A Dask client for one run: a scheduler named by URL, or a local cluster started for it.

Every way this can go wrong becomes a :class:`DaskUnavailable` with one line the CLI prints:
dask not installed (names the extra), a scheduler that does not answer within the connect
timeout, a cluster without workers. Dask's own logging is turned down to errors in the driver
and in the local workers: the user sees our progress and our one-line errors, not the
scheduler's chatter about workers coming and going.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiops_copilot.distributed.plan import DEFAULT_PARTITION_BYTES

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["DaskOptions", "DaskUnavailable", "dask_client", "require_dask"]

NEEDS_EXTRA = "--engine dask needs the dask extra ({reason}): pip install 'aiops-copilot[dask]'"

_NOISY_LOGGERS = ("distributed", "distributed.client", "tornado", "tornado.application", "bokeh")


class DaskUnavailable(Exception):
    """The Dask engine cannot run; the message is the one line the user sees."""


@dataclass(frozen=True)
class DaskOptions:
    """How a run uses Dask (``[dask]`` in the configuration, ``--scheduler``/``--workers``)."""

    #: ``tcp://host:8786`` of a running scheduler; ``None`` starts a local cluster.
    scheduler: str | None = None
    #: Worker processes of the local cluster (one thread each); ``None``: one per CPU.
    workers: int | None = None
    partition_bytes: int = DEFAULT_PARTITION_BYTES
    #: Attempts after the first for a partition whose task raised (a killed worker's tasks are
    #: rescheduled by the scheduler itself).
    retries: int = 2
    #: Seconds to reach the scheduler, and to wait for a first worker.
    connect_timeout: float = 10.0


def require_dask() -> None:
    """Raise :class:`DaskUnavailable` naming the extra when ``distributed`` cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        name = getattr(exc, "name", None) or "dask"
        raise DaskUnavailable(NEEDS_EXTRA.format(reason=f"{name} is not installed")) from None


def _quiet() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def dask_client(options: DaskOptions) -> Iterator[Client]:
    """A connected client with at least one worker, closed (and its cluster stopped) on exit."""
    require_dask()
    _quiet()
    from distributed import Client, LocalCluster

    timeout = options.connect_timeout
    if options.scheduler is not None:
        try:
            client = Client(options.scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DaskUnavailable(
                f"cannot reach the Dask scheduler at {options.scheduler} within {timeout:g} s"
                f" ({reason})"
            ) from None
        with _closing(client):
            _wait_for_workers(client, timeout, options.scheduler)
            _quiet()
            yield client
        return
    workers = options.workers or os.cpu_count() or 1
    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise DaskUnavailable(f"cannot start a local Dask cluster: {exc}") from None
    try:
        client = Client(cluster, set_as_default=False)
        with _closing(client):
            _wait_for_workers(client, timeout * 3, "the local cluster")
            yield client
    finally:
        cluster.close(timeout=timeout)


@contextmanager
def _closing(client: Client) -> Iterator[Client]:
    try:
        yield client
    finally:
        # Already gone: nothing to close.
        with suppress(OSError, TimeoutError, RuntimeError):
            client.close(timeout=10)


def _wait_for_workers(client: Client, timeout: float, where: str) -> None:
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise DaskUnavailable(f"no Dask worker joined {where} within {timeout:g} s") from exc


def worker_count(client: Client) -> int:
    """Workers connected right now."""
    info = client.scheduler_info(n_workers=-1)
    return len(info.get("workers", {}))
