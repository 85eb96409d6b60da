"""The notifier: which incidents are news, for which target, sent without holding anyone up.

``notify(incident, change)`` decides on the caller's thread, in microseconds: the target's
severity threshold and changes, then de-duplication (same target, incident and change within
the TTL is not news; a ``reopened`` carries the time of the resolve it follows, so each
reopening is news once), then the target's rate limit. Delivery happens on the target's own
thread (:mod:`aiops_copilot.notify.worker`). It matches the live pipeline's
``on_incident(incident, change)`` callback, so ``LivePipeline(on_incident=notifier.notify)``
wires it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from loguru import logger

from aiops_copilot.models import AnalysisResult, Incident, IncidentStatus
from aiops_copilot.notify.dedup import STATE_NAME, DedupState, Key
from aiops_copilot.notify.delivery import Backoff, Poster
from aiops_copilot.notify.events import Event
from aiops_copilot.notify.ratelimit import TokenBucket
from aiops_copilot.notify.settings import NotifySettings
from aiops_copilot.notify.targets import Target, resolve_targets
from aiops_copilot.notify.worker import Job, TargetStats, TargetWorker

if TYPE_CHECKING:
    from aiops_copilot.config import Settings

#: The changes a caller may report; ``resolved`` goes through :meth:`Notifier.resolve`.
INCIDENT_CHANGES = frozenset({"new", "reopened", "updated"})


def warn_stderr(message: str) -> None:
    """The default warning: one line on stderr, like every other warning of the tool."""
    logger.debug("notify: {}", message)
    first = message.splitlines()[0] if message else message
    sys.stderr.write(f"aiops: warning: notify: {first}\n")


def change_of(incident: Incident) -> str:
    """``new``, ``reopened`` or ``updated``, from the history the store set on ``incident``.

    Reopened means seen again for the first time since someone resolved it: the store says
    ``recurred`` and the resolve came after the previous sighting. Reading the same logs again
    is never news.
    """
    history = incident.history
    if history is None:
        return "new"
    if history.same_logs:
        return "updated"
    resolved = history.last_resolved_at
    if (
        history.status is IncidentStatus.RECURRED
        and resolved is not None
        and _utc(resolved) >= _utc(history.last_seen_at)
    ):
        return "reopened"
    return "updated"


def _utc(moment: datetime) -> datetime:
    """The store's times are UTC; a database may hand them back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def default_state_file(settings: Settings) -> Path:
    """``notify.state_file``, else beside the SQLite database, else the data folder."""
    if settings.notify.state_file is not None:
        return Path(settings.notify.state_file).expanduser()
    from aiops_copilot.store.location import StoreError, sqlite_file, to_url
    from aiops_copilot.xdg import data_home

    try:
        database = sqlite_file(to_url(settings.store.url))
    except StoreError:
        database = None
    if database is not None:
        return database.parent / STATE_NAME
    return data_home() / "aiops" / STATE_NAME


class Notifier:
    """Sends incidents to its targets; a notifier with no targets does nothing, cheaply."""

    def __init__(
        self,
        targets: Iterable[Target],
        settings: NotifySettings | None = None,
        *,
        state_file: Path | None = None,
        warn: Callable[[str], None] = warn_stderr,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or NotifySettings()
        self.targets = list(targets)
        self._warn = warn
        self._hold = timedelta(minutes=self.settings.dedup_ttl_minutes)
        self.dedup = DedupState(state_file, self._hold.total_seconds(), clock=clock, warn=warn)
        self._workers = {
            target.name: TargetWorker(
                target,
                Poster(
                    target.url,
                    headers=target.headers,
                    timeout=self.settings.timeout,
                    attempts=self.settings.attempts,
                    backoff=backoff,
                ),
                TokenBucket(self.settings.burst, self.settings.rate_per_minute / 60.0),
                hold=self._hold,
                queue_size=self.settings.queue_size,
                warn=warn,
                release=self.dedup.release,
            )
            for target in self.targets
        }
        self._closed = False

    @classmethod
    def from_settings(
        cls, settings: Settings, *, warn: Callable[[str], None] = warn_stderr
    ) -> Notifier:
        """Targets from ``[notify]`` (problems are warnings, the rest still work)."""
        targets, problems = resolve_targets(settings.notify)
        for problem in problems:
            warn(problem)
        state = default_state_file(settings) if targets else None
        return cls(targets, settings.notify, state_file=state, warn=warn)

    @property
    def configured(self) -> bool:
        return bool(self.targets)

    @property
    def stats(self) -> dict[str, TargetStats]:
        return {name: worker.stats for name, worker in self._workers.items()}

    def notify(self, incident: Incident, change: str) -> int:
        """Queue ``incident`` for every target that wants it; how many took it (0: none).

        Never blocks on the network and never raises for a delivery problem."""
        if change not in INCIDENT_CHANGES:
            raise ValueError(f"unknown change {change!r}; expected new, reopened or updated")
        if self._closed:
            return 0
        event = Event(incident, change)
        epoch = _epoch(incident) if change == "reopened" else ""
        taken = 0
        for target in self.targets:
            if not target.wants(incident.severity, change):
                continue
            key: Key = (target.name, incident.fingerprint, change, epoch)
            if not self.dedup.claim(key):
                logger.debug(
                    "notify: {} already told about {} ({})", target.name, incident.id, change
                )
                continue
            outcome = self._workers[target.name].offer(Job(event, key))
            taken += outcome != "dropped"
        return taken

    #: The live pipeline's callback signature: ``on_incident(incident, change)``.
    on_incident = notify

    def resolve(self, incident: Incident) -> int:
        """Tell the targets that were told about ``incident`` that it is resolved (Alertmanager
        gets ``endsAt``), and forget it, so a reopening is news again."""
        if self._closed:
            return 0
        told = set(self.dedup.forget(incident.fingerprint))
        event = Event(incident, "resolved")
        taken = 0
        for target in self.targets:
            if target.name in told:
                taken += self._workers[target.name].offer(Job(event)) != "dropped"
        return taken

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued (and any rate-limit summary), waiting at most ``timeout``
        seconds (default: one full retry cycle); what is left is counted in a warning."""
        if self._closed:
            return
        self._closed = True
        if timeout is None:
            timeout = self.settings.timeout * self.settings.attempts + 5.0
        deadline = time.monotonic() + timeout
        for name, worker in self._workers.items():
            left = worker.close(deadline)
            if left:
                self._warn(f"{worker.target.shown}: {left} notification(s) not sent before exit")
            logger.info("notify: {}: {}", name, worker.stats)

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _epoch(incident: Incident) -> str:
    history = incident.history
    if history is None or history.last_resolved_at is None:
        return ""
    return history.last_resolved_at.isoformat()


def notify_result(result: AnalysisResult, settings: Settings) -> int:
    """``aiops analyze --notify``: tell the targets about this run's new and reopened
    incidents (the store, when on, has set each one's history), wait for delivery; how many
    incident messages were queued."""
    with Notifier.from_settings(settings) as notifier:
        if not notifier.configured:
            return 0
        return sum(notifier.notify(incident, change_of(incident)) for incident in result.incidents)
