"""The bounded ingest queue: full means 429 with Retry-After, and nothing accepted is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from aiops_copilot.api.decode.common import Batch
from aiops_copilot.api.queue import IngestQueue
from aiops_copilot.live.pipeline import LivePipeline
from aiops_copilot.models import LogRecord
from aiops_copilot.store.schema import Run
from aiops_copilot.store.sql import Store
from api.api_server import api_settings, options_for, running_api


def _batch(source: str, count: int, start: int = 0) -> Batch:
    records = [
        LogRecord(
            message=f"ERROR job {start + n} failed: connection reset by peer",
            source=source,
            line_no=n + 1,
            end_line=n + 1,
        )
        for n in range(count)
    ]
    return Batch(source, records, count)


def _stored_records(folder: Path) -> int:
    with Store(folder / "store.db") as store, store.engine.connect() as connection:
        return int(connection.scalar(select(func.coalesce(func.sum(Run.records), 0))) or 0)


def test_full_queue_refuses_whole_requests_and_loses_nothing(tmp_path: Path) -> None:
    pipeline = LivePipeline(api_settings(tmp_path), command="serve")
    queue = IngestQueue(pipeline, capacity=10)  # the worker is not started yet: nothing drains
    assert queue.offer([_batch("a.log", 6)])
    assert queue.offer([_batch("a.log", 6, 6)])  # 6 waiting < 10: taken, whole
    assert not queue.offer([_batch("a.log", 1)])  # 12 waiting: refused, whole
    assert queue.depth == 12
    assert 1 <= queue.retry_after() <= 60
    queue.start()
    window = queue.flush(timeout=120)
    assert window.records == 12
    assert pipeline.stats.records_ingested == 12
    assert queue.depth == 0 and queue.processed == 12
    assert queue.offer([_batch("a.log", 1)])
    queue.stop()  # drains, then the pipeline's final window
    assert pipeline.stats.records_ingested == 13
    assert _stored_records(tmp_path) == 13


def test_records_are_numbered_per_source_after_what_it_sent(tmp_path: Path) -> None:
    pipeline = LivePipeline(api_settings(tmp_path), command="serve")
    queue = IngestQueue(pipeline, capacity=100)
    first, second, other = _batch("a.log", 3), _batch("a.log", 2), _batch("b.log", 2)
    assert queue.offer([first])
    assert queue.offer([second, other])
    assert [r.line_no for r in second.records] == [4, 5]
    assert [r.line_no for r in other.records] == [1, 2]
    queue.start()
    queue.stop()


def test_tiny_queue_gives_429_and_retried_pushes_all_arrive(tmp_path: Path) -> None:
    clients, batches, lines = 4, 12, 400
    refused: list[int] = []
    accepted: list[int] = []
    lock = threading.Lock()
    with running_api(options_for(tmp_path, queue_records=1)) as api:

        def push(number: int) -> None:
            with api.client() as client:
                for batch in range(batches):
                    body = "\n".join(
                        f"2026-11-24 10:{batch:02d}:{n % 60:02d} ERROR worker {number} "
                        f"request {n} failed: upstream timed out"
                        for n in range(lines)
                    )
                    while True:
                        response = client.post(
                            "/v1/logs", params={"source": f"client-{number}.log"}, content=body
                        )
                        if response.status_code != 429:
                            break
                        retry = int(response.headers["Retry-After"])
                        assert 1 <= retry <= 60
                        assert "queue full" in response.json()["error"]
                        with lock:
                            refused.append(retry)
                        time.sleep(0.01)  # a real shipper waits Retry-After seconds
                    assert response.status_code == 202, response.text
                    with lock:
                        accepted.append(response.json()["accepted"])

        threads = [threading.Thread(target=push, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        api.flush()
        total = clients * batches * lines
        assert sum(accepted) == total
        assert refused, "a queue of one record must refuse concurrent pushes"
        assert api.metric("aiops_ingest_records_total", endpoint="logs") == total
        assert api.metric("aiops_ingest_processed_records_total") == total
        assert api.metric("aiops_pipeline_records_total") == total
        assert api.metric(
            "aiops_ingest_rejected_requests_total", endpoint="logs", reason="queue_full"
        ) == len(refused)
    assert _stored_records(tmp_path) == total
