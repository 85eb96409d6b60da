"""A bounded run of ``bench/ingest_load.py``: concurrent clients push real log lines over
loopback and nothing accepted is lost (accepted = counted = mined = stored). The same with
a queue of one record, where most pushes are refused with 429 and retried, is
``test_api_queue.py::test_tiny_queue_gives_429_and_retried_pushes_all_arrive``."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.api_server import options_for, running_api
from ingest_load import check, push


@pytest.mark.parametrize(
    ("protocol", "lines", "queue"),
    [("logs", 20_000, 100_000), ("bulk", 3_000, 100_000)],
)
def test_concurrent_pushes_lose_nothing(
    tmp_path: Path, protocol: str, lines: int, queue: int
) -> None:
    options = options_for(tmp_path, queue_records=queue, token="load")
    with running_api(options) as api:
        pushed = push(api.url, "load", lines=lines, clients=4, batch=500, protocol=protocol)
        checked = check(api.url, "load", pushed, protocol, None)
    checked.stored = _stored(tmp_path)
    assert pushed.errors == []
    assert pushed.lines == lines
    assert checked.accepted > 0 and checked.lossless, checked
    if protocol == "logs":
        assert checked.accepted == lines  # Loghub lines are one record each


def _stored(folder: Path) -> int:
    from ingest_load import stored_records

    return stored_records(folder / "store.db")
