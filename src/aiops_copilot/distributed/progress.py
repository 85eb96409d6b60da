"""Progress of a Dask run on stderr: partitions done, lines, and each worker's throughput.

The same rules as :mod:`aiops_copilot.ingest.progress`: stderr only (stdout is the report),
only when stderr is a terminal and not ``--quiet``, transient (the report is what stays on
screen). The unit is the partition, since that is what a worker reports back; each worker
gets a row with its partitions, lines and lines per second of task time, which shows a slow
or overloaded machine at a glance. The tallies are kept even when nothing is drawn, for the
``-v`` summary line and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from rich.progress import (
    MofNCompleteColumn,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from aiops_copilot.distributed.task import PartitionResult
from aiops_copilot.ingest.progress import DisplayOptions, TerminalProgress

__all__ = ["ClusterProgress", "WorkerTally"]


@dataclass
class WorkerTally:
    """What one worker has done so far."""

    partitions: int = 0
    lines: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def _short(address: str) -> str:
    return address.removeprefix("tcp://").removeprefix("tls://")


class ClusterProgress(TerminalProgress):
    """Context manager told the number of partitions (:meth:`begin`), then fed one
    :class:`PartitionResult` at a time (:meth:`add`).

    ``enabled``, ``quiet`` and ``stream`` as for
    :class:`~aiops_copilot.ingest.progress.TerminalProgress`.
    """

    def __init__(self, **options: Unpack[DisplayOptions]) -> None:
        super().__init__(**options)
        self.partitions = 0
        self.workers: dict[str, WorkerTally] = {}
        self.lines = 0
        self._total: TaskID | None = None
        self._rows: dict[str, TaskID] = {}

    def _columns(self) -> tuple[ProgressColumn, ...]:
        return (MofNCompleteColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn())

    def begin(self, partitions: int) -> None:
        """The run was planned: show a bar over its ``partitions``."""
        self.partitions = partitions
        if self._progress is not None:
            self._total = self._progress.add_task(
                "dask: partitions", total=partitions, detail="starting"
            )

    def add(self, result: PartitionResult) -> None:
        """Count a finished partition for its worker, and redraw."""
        tally = self.workers.setdefault(result.worker, WorkerTally())
        tally.partitions += 1
        tally.lines += result.lines
        tally.bytes += result.report.stats.bytes
        tally.seconds += result.seconds
        self.lines += result.lines
        if self._progress is None or self._total is None:
            return
        self._progress.update(self._total, advance=1, detail=f"{self.lines:,} lines")
        row = self._rows.get(result.worker)
        if row is None:
            row = self._progress.add_task(
                f"  {_short(result.worker)}", total=None, detail="", start=False
            )
            self._rows[result.worker] = row
        self._progress.update(
            row,
            completed=tally.partitions,
            detail=f"{tally.lines:,} lines, {tally.lines_per_second:,.0f} lines/s",
        )

    def summary(self) -> str:
        """One line: each worker's partitions and throughput."""
        parts = [
            f"{_short(name)}: {t.partitions} partitions, {t.lines:,} lines, "
            f"{t.lines_per_second:,.0f} lines/s"
            for name, t in sorted(self.workers.items())
        ]
        return "; ".join(parts) or "no partitions"
