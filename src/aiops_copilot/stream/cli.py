"""``aiops consume``: analyse a broker's stream as one of a group of consumers.

The command wires the pieces and owns the way out: ``stream.broker`` (which consumer),
``live.pipeline`` (windows, store, memory, notifications) with the consumer's recorder,
``stream.shared_miner`` (the group's template state), ``stream.worker`` (the loop) and
``live.command_parts`` (what ``aiops watch`` does alike: options, incident output, signals).
SIGTERM and Ctrl-C set a flag the loop checks between batches; the window in hand is then
stored and acknowledged, and the command exits 0. Problems before the loop starts (a bad URL,
a missing extra, an unreachable store) are one ``aiops: error:`` line and exit 2; a broker
that never answered before an ``--exit-after-idle`` ran out is one too.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from loguru import logger

from aiops_copilot.cli_options import ExitAfterIdleOpt, KbPathsOpt, LogFormatOpt, NoMemoryOpt
from aiops_copilot.live import command_parts as parts

if TYPE_CHECKING:  # imported when the command runs: every other command starts faster
    from aiops_copilot.config import LoadedConfig
    from aiops_copilot.live.pipeline import LivePipeline
    from aiops_copilot.stream.broker import ConsumerOptions
    from aiops_copilot.stream.urls import BrokerURL
    from aiops_copilot.stream.worker import WorkerLimits, WorkerStats

#: Group and consumer names: valid as a JetStream durable, a Redis consumer and a Kafka id.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def consume(
    url: Annotated[
        str,
        typer.Argument(
            help="nats://HOST:PORT/SUBJECT, redis://HOST:PORT/STREAM or kafka://HOST:PORT/TOPIC.",
            show_default=False,
        ),
    ],
    group: Annotated[
        str, typer.Option("--group", help="Consumer group: its consumers share the stream.")
    ] = "aiops",
    consumer: Annotated[
        str | None,
        typer.Option(
            "--consumer",
            help="This consumer's name in the group (default: HOST-PID).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=100_000, help="Messages fetched at once.")
    ] = 1000,
    window: parts.WindowOpt = 60.0,
    max_window_records: parts.MaxWindowRecordsOpt = 50_000,
    ack_wait: Annotated[
        float | None,
        typer.Option(
            "--ack-wait",
            min=1.0,
            help="Seconds a fetched message may wait for its window to be stored before the "
            "broker delivers it again (default: 2 x --window + 30).",
            show_default=False,
        ),
    ] = None,
    poll: Annotated[
        float,
        typer.Option("--poll", min=0.05, max=30.0, help="Longest wait for messages per fetch."),
    ] = 1.0,
    log_format: LogFormatOpt = None,
    kb_paths: KbPathsOpt = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="The store shared by the group: SQLite file or database URL "
            "(postgresql+psycopg://... for consumers on several machines).",
            show_default=False,
        ),
    ] = None,
    no_memory: NoMemoryOpt = False,
    exit_after_idle: ExitAfterIdleOpt = None,
    max_messages: Annotated[
        int | None,
        typer.Option(
            "--max-messages", min=1, help="Stop after this many messages.", show_default=False
        ),
    ] = None,
) -> None:
    """Consume log messages from NATS JetStream, Redis Streams or Kafka as a member of a
    consumer group, analyse them in windows like `aiops watch`, store the incidents, and
    acknowledge each message only once its window is stored. Several consumers of one group
    share the stream, one template state and one store; a redelivered message is never
    counted twice. Ctrl-C stops cleanly: the window in hand is stored and acknowledged."""
    from aiops_copilot.cli import _guarded, _load, fail
    from aiops_copilot.stream.broker import ConsumerOptions, MissingExtra, client_for
    from aiops_copilot.stream.urls import parse_broker_url
    from aiops_copilot.stream.worker import WorkerLimits

    try:
        broker_url = parse_broker_url(url)
        client_for(broker_url)
    except (ValueError, MissingExtra) as exc:
        fail(str(exc))
    for what, name in (("--group", group), ("--consumer", consumer)):
        if name is not None and not _NAME.match(name):
            fail(f"{what} {name!r}: use letters, digits, '-' and '_' (at most 64)")
    wait = ack_wait if ack_wait is not None else 2 * window + 30
    loaded = _load(
        {
            "ingest.format": log_format,
            "store.url": db,
            "memory.enabled": False if no_memory else None,
        }
    )
    parts.check_format(log_format, fail)
    if wait <= window:
        logger.warning(
            "--ack-wait ({:g} s) is not longer than --window ({:g} s): messages are delivered "
            "again to other consumers while their window is open (still counted once, but "
            "analysed twice)",
            wait,
            window,
        )
    options = ConsumerOptions(group=group, name=consumer or "", ack_wait=wait)
    limits = WorkerLimits(
        batch=batch, poll=poll, exit_after_idle=exit_after_idle, max_messages=max_messages
    )

    def work() -> None:
        _run(loaded, broker_url, options, limits, window, max_window_records, kb_paths)

    _guarded(work)


def _run(
    loaded: LoadedConfig,
    url: BrokerURL,
    options: ConsumerOptions,
    limits: WorkerLimits,
    window: float,
    max_window_records: int,
    kb_paths: list[Path] | None,
) -> None:
    from aiops_copilot.cli import _state, fail
    from aiops_copilot.store.location import StoreError
    from aiops_copilot.stream.assemble import assemble

    settings = loaded.settings
    kb = parts.load_kb(kb_paths)
    output = parts.IncidentOutput(settings, print_lines=True)
    try:
        try:
            worker, pipeline = assemble(
                settings,
                url,
                options,
                limits,
                kb=kb,
                window=window,
                max_window_records=max_window_records,
                on_incident=output,
            )
        except StoreError as exc:
            fail(str(exc))
        try:
            if not _state.get("quiet"):
                sys.stderr.write(
                    f"aiops: consuming {url.shown} as {options.consumer} in group "
                    f"{options.group}; Ctrl-C stops\n"
                )
                sys.stderr.flush()
            stop = threading.Event()
            try:
                with parts.stop_on_signals(stop):
                    stats = worker.run(stop)
            finally:
                worker.close()
        finally:
            pipeline.close()
    finally:
        output.close()
    if not stats.connected and stats.broker_down:
        fail(f"gave up: {stats.broker_down}")
    _farewell(stats, pipeline)


def _farewell(stats: WorkerStats, pipeline: LivePipeline) -> None:
    from aiops_copilot.cli import _state

    if _state.get("quiet"):
        return
    live = pipeline.stats
    extra = []
    if stats.duplicates:
        extra.append(f"{stats.duplicates:,} already stored (delivered again), not counted")
    if stats.released:
        extra.append(f"{stats.released:,} given back to the broker")
    sys.stderr.write(
        f"aiops: consumed {stats.stored:,} message(s), {stats.records:,} record(s) in "
        f"{stats.windows:,} window(s): {live.incidents_new:,} new, "
        f"{live.incidents_reopened:,} reopened, {live.incidents_updated:,} updated incident(s)"
        + ("; " + "; ".join(extra) if extra else "")
        + "\n"
    )
