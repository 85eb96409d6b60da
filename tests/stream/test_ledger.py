"""The ledger of consumed messages: written with the window it belongs to, or not at all;
a message stored once is never stored again; consumed windows are never "the same logs"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aiops_copilot.models import AnalysisResult, TemplateCount
from aiops_copilot.store.consumed import AlreadyConsumed, Consumption
from aiops_copilot.store.schema import ConsumedMessage, Run, TemplateCountRow
from aiops_copilot.store.sql import Store
from store.store_samples import make_incident, make_result

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = str(tmp_path / "ledger.db")
    else:
        url = str(request.getfixturevalue("pg_url"))
    with Store(url) as opened:
        yield opened


def window(key: str, records: int) -> AnalysisResult:
    """A window with one incident and one template of ``records`` records in one minute."""
    result = make_result([make_incident(key, start=T0)])
    result.templates = [
        TemplateCount(
            template_id="Tconsumed",
            template="worker <*> finished",
            example="worker 1 finished",
            count=records,
            first_seen=T0,
            last_seen=T0 + timedelta(seconds=30),
            minutes={int(T0.timestamp()) // 60: records},
        )
    ]
    return result


def totals(store: Store) -> tuple[int, int, int]:
    """(runs, ledger rows, template records counted)."""
    with store.engine.connect() as connection:
        runs = connection.scalar(select(func.count()).select_from(Run))
        ledger = connection.scalar(select(func.count()).select_from(ConsumedMessage))
        counted = connection.scalar(select(func.coalesce(func.sum(TemplateCountRow.count), 0)))
    return int(runs or 0), int(ledger or 0), int(counted or 0)


def test_a_window_and_its_messages_are_one_commit(store: Store) -> None:
    ids = tuple(f"1795000000000-{n}" for n in range(3))
    assert store.consumed("redis:app", list(ids)) == set()
    stored = store.record(window("a", 3), command="consume", consumed=Consumption("redis:app", ids))
    assert stored.incidents == 1
    assert store.consumed("redis:app", [*ids, "1795000000000-9"]) == set(ids)
    assert store.consumed("redis:other", list(ids)) == set()  # ids are per stream
    assert totals(store) == (1, 3, 3)


def test_a_message_stored_before_rolls_the_whole_window_back(store: Store) -> None:
    store.record(window("a", 2), consumed=Consumption("nats:APP", ("1", "2")))
    with pytest.raises(AlreadyConsumed) as lost:
        store.record(window("b", 3), consumed=Consumption("nats:APP", ("2", "3", "4")))
    assert lost.value.ids == {"2"} and "stored by another consumer first" in str(lost.value)
    assert totals(store) == (1, 2, 2)  # nothing of the second window
    assert [i.id for i in store.incidents()] == [make_incident("a").id]
    store.record(window("b", 2), consumed=Consumption("nats:APP", ("3", "4")))
    assert totals(store) == (2, 4, 4)


def test_consumed_windows_overlapping_in_log_time_all_count(store: Store) -> None:
    """Two consumers' windows cover the same minutes of the stream: different lines, both
    counted in full (a re-read file would be counted once)."""
    for n in range(3):
        store.record(
            window("a", 5),
            now=NOW + timedelta(minutes=n),
            consumed=Consumption("redis:app", (f"{n}-0", f"{n}-1")),
        )
    (template,) = [t for t in store.templates() if t.id == "Tconsumed"]
    assert (template.total, template.runs) == (15, 3)
    detail = store.incident(make_incident("a").id)
    assert detail.incident.times_seen == 3
    assert not any(o.same_logs for o in detail.occurrences)


def test_prune_forgets_the_ledger_of_old_windows(store: Store) -> None:
    store.record(window("a", 1), now=NOW - timedelta(days=40), consumed=Consumption("s", ("1",)))
    store.record(window("a", 1), now=NOW, consumed=Consumption("s", ("2",)))
    assert store.prune(NOW - timedelta(days=30)).runs == 1
    assert store.consumed("s", ["1", "2"]) == {"2"}
