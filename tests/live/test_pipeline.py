"""LivePipeline: windows, the bounded buffer, the store's verdicts, one miner, the baseline."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.live.pipeline import LiveIncident, LivePipeline
from aiops_copilot.models import Incident, Signal
from aiops_copilot.store.sql import Store

from .conftest import pg_lines
from .records import app_line, records_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _signals(incidents: list[Incident], observations: list[Signal]) -> list[Signal]:
    return [*observations, *(s for i in incidents for s in i.signals)]


def test_a_window_is_due_after_its_time_and_only_with_records(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    clock = Clock()
    with LivePipeline(live_settings, kb=kb, window_seconds=60, clock=clock) as pipeline:
        clock.now += 600
        assert pipeline.maybe_flush() is None  # nothing fed: no window, however long
        records = records_of(pg_lines(base_time))
        assert pipeline.feed(records) == len(records)
        clock.now += 59
        assert pipeline.maybe_flush() is None
        assert pipeline.stats.pending_records == len(records)
        clock.now += 1
        window = pipeline.maybe_flush()
        assert window is not None and window.reason == "due"
        assert window.records == len(records)
        assert window.stored is not None and window.stored.incidents == len(window.new) >= 1
        stats = pipeline.stats
        assert (stats.windows, stats.pending_records, stats.records_ingested) == (
            1,
            0,
            len(records),
        )
        assert pipeline.maybe_flush() is None  # the next window opens with the next record


def test_a_full_window_is_concluded_early_so_the_buffer_stays_bounded(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    seen: list[int] = []
    with LivePipeline(
        live_settings,
        kb=kb,
        window_seconds=3600,
        max_window_records=10,
        on_window=lambda w: seen.append(w.records),
    ) as pipeline:
        records = records_of([app_line(base_time, n, f"processed order {n}") for n in range(25)])
        assert pipeline.feed(records) == 25
        stats = pipeline.stats
        assert (stats.windows, stats.windows_full, stats.pending_records) == (2, 2, 5)
        assert seen == [10, 10]
    assert seen == [10, 10, 5]  # close() concluded the rest


def test_new_then_updated_then_reopened_after_a_resolve(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    changes: list[tuple[str, str]] = []
    with LivePipeline(
        live_settings, kb=kb, on_incident=lambda i, c: changes.append((i.id, c))
    ) as pipeline:

        def window(hours: int) -> tuple[list[str], list[str], list[str]]:
            pipeline.feed(records_of(pg_lines(base_time + timedelta(hours=hours))))
            result = pipeline.flush()
            return result.new, result.updated, result.reopened

        new, updated, reopened = window(0)
        assert new and not updated and not reopened
        incident_id = new[0]
        assert window(1) == ([], new, [])
        with Store(live_settings.store.url) as store:
            store.resolve(incident_id, "raised max_connections, pooled the report service")
        assert incident_id not in [i.id for i in _board_after(pipeline, base_time)]
        assert window(2) == ([], [], new)
        assert window(3) == ([], new, [])
        board = {item.id: item for item in pipeline.open_incidents()}
        assert board[incident_id].status == "recurred"
        # Resolving took it off the board; since it came back, its windows' records add up.
        assert board[incident_id].count == 2 * 12
    assert changes == [
        (incident_id, "new"),
        (incident_id, "updated"),
        (incident_id, "reopened"),
        (incident_id, "updated"),
    ]
    with Store(live_settings.store.url) as store:
        assert store.incident(incident_id).incident.times_seen == 4


def _board_after(pipeline: LivePipeline, base: datetime) -> list[LiveIncident]:
    """The board once a window has run after a resolve: resolved incidents leave it."""
    pipeline.feed(records_of([app_line(base, 1, "heartbeat ok")], source="other.log"))
    pipeline.flush()
    return list(pipeline.open_incidents())


def test_without_a_store_the_pipeline_remembers_what_it_has_seen(
    kb: KnowledgeBase, base_time: datetime
) -> None:
    settings = Settings(store=StoreSettings(enabled=False), memory=MemorySettings(enabled=False))
    with LivePipeline(settings, kb=kb) as pipeline:
        pipeline.feed(records_of(pg_lines(base_time)))
        first = pipeline.flush()
        pipeline.feed(records_of(pg_lines(base_time + timedelta(hours=1))))
        second = pipeline.flush()
    assert first.stored is None and first.new and not first.updated
    assert second.new == [] and second.updated == first.new


def test_template_ids_stay_the_same_across_windows(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    with LivePipeline(live_settings, kb=kb) as pipeline:
        pipeline.feed(records_of(pg_lines(base_time)))
        first = pipeline.flush().result
        clusters = len(pipeline.miner)
        pipeline.feed(records_of(pg_lines(base_time + timedelta(hours=1))))
        second = pipeline.flush().result
        assert len(pipeline.miner) == clusters  # one miner: the same lines, no new templates
    assert [i.template_ids for i in first.incidents] == [i.template_ids for i in second.incidents]
    assert [i.id for i in first.incidents] == [i.id for i in second.incidents]


def test_earlier_windows_are_the_novelty_baseline(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    normal = [app_line(base_time, n, f"processed order {n} in {n % 50} ms") for n in range(300)]
    new_message = "cache node 10.0.0.7 is not responding, retrying"
    later = [app_line(base_time, 400 + n, new_message, "WARNING") for n in range(5)]
    later += [
        app_line(base_time, 500 + n, f"processed order {n} in {n % 50} ms") for n in range(300)
    ]
    with LivePipeline(live_settings, kb=kb) as pipeline:
        pipeline.feed(records_of(normal))
        pipeline.flush()
        pipeline.feed(records_of(later))
        window = pipeline.flush().result
    novel = [s for s in _signals(window.incidents, window.observations) if s.kind == "novelty"]
    # The new template comes first in its window: only the earlier window can call it new,
    # and the template the earlier window saw 300 times is not new at all.
    assert len(novel) == 1
    assert "never in the baseline (300 records)" in novel[0].reason
    assert novel[0].count == 5


def test_feeding_from_many_threads_loses_nothing(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    concluded: list[int] = []
    with LivePipeline(
        live_settings,
        kb=kb,
        max_window_records=700,
        on_window=lambda w: concluded.append(w.records),
    ) as pipeline:

        def feeder(worker: int) -> None:
            for batch in range(10):
                lines = [
                    app_line(base_time, n, f"worker {worker} batch {batch} item {n} done")
                    for n in range(100)
                ]
                pipeline.feed(records_of(lines, source=f"w{worker}.log"))

        threads = [threading.Thread(target=feeder, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert pipeline.stats.records_ingested == 4000
    assert sum(concluded) == 4000
    assert all(count <= 700 for count in concluded)


def test_a_failing_callback_does_not_stop_the_pipeline(
    live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    def broken(_incident: Incident, _change: str) -> None:
        raise RuntimeError("receiver down")

    with LivePipeline(live_settings, kb=kb, on_incident=broken) as pipeline:
        pipeline.feed(records_of(pg_lines(base_time)))
        assert pipeline.flush().new
        pipeline.feed(records_of(pg_lines(base_time + timedelta(hours=1))))
        assert pipeline.flush().updated


def test_close_concludes_the_rest_and_refuses_more(
    tmp_path: Path, live_settings: Settings, kb: KnowledgeBase, base_time: datetime
) -> None:
    pipeline = LivePipeline(live_settings, kb=kb)
    records = records_of(pg_lines(base_time))
    pipeline.feed(records)
    pipeline.close()
    pipeline.close()  # twice is fine
    assert pipeline.feed(records) == 0
    assert pipeline.stats.windows == 1
    with Store(live_settings.store.url) as store:
        assert [s.title for s in store.incidents()]
    assert pipeline.flush().reason == "empty"


def test_parse_errors_reported_by_sources_are_counted(
    live_settings: Settings, kb: KnowledgeBase
) -> None:
    with LivePipeline(live_settings, kb=kb) as pipeline:
        pipeline.note_parse_errors(3)
        pipeline.note_parse_errors(0)
        assert pipeline.stats.parse_errors == 3


@pytest.mark.parametrize("bad", [{"window_seconds": 0}, {"max_window_records": 0}])
def test_bad_limits_are_refused(live_settings: Settings, kb: KnowledgeBase, bad: dict) -> None:
    with pytest.raises(ValueError):
        LivePipeline(live_settings, kb=kb, **bad)
