"""``POST /v1/incidents/{id}/resolve``: what ``aiops incidents resolve`` does, over HTTP, in a
running server: the store marks it resolved with the note, and the notify targets that were
paged about it (by this server's live pipeline) hear that it is over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.config import MemorySettings, Settings, StoreSettings
from aiops_copilot.notify.settings import NotifySettings
from api.api_server import RunningApi, eval_lines, options_for, running_api
from notify.notify_helpers import Receiver, serve


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[RunningApi]:
    folder: Path = tmp_path_factory.mktemp("resolve")
    settings = Settings(
        store=StoreSettings(url=str(folder / "store.db")),
        memory=MemorySettings(enabled=False),
        notify=NotifySettings.model_validate(
            {"targets": [{"name": "hook", "kind": "webhook", "url": receiver.url("/hook")}]}
        ),
    )
    with running_api(options_for(folder, settings=settings)) as running:
        yield running


def _resolve(api: RunningApi, key: str, body: dict[str, Any]) -> Any:
    with api.client() as client:
        return client.post(f"/v1/incidents/{key}/resolve", json=body)


def test_resolving_stores_the_note_and_tells_who_was_paged(
    api: RunningApi, receiver: Receiver
) -> None:
    lines = eval_lines("database/postgres-connection-leak-slots-exhausted", "postgresql.log")
    with api.client() as client:
        pushed = client.post(
            "/v1/logs", params={"source": "postgresql.log"}, content="\n".join(lines).encode()
        )
    assert pushed.status_code == 202, pushed.text
    assert api.flush()["new"]
    (paged,) = receiver.wait_for(1)
    assert paged.body["change"] == "new"
    incident_id = paged.body["incident"]["id"]

    note = "PgBouncer in transaction mode in front of the database"
    answer = _resolve(api, incident_id[:9], {"note": note})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["incident"]["id"] == incident_id
    assert body["incident"]["status"] == "resolved"
    assert body["incident"]["resolution_note"] == note
    assert body["notified"] == 1 and body["remembered"] is False  # memory is off here
    told = receiver.wait_for(2)[1]
    assert told.body["change"] == "resolved"
    assert told.body["incident"]["id"] == incident_id
    assert told.body["incident"]["history"]["last_resolution_note"] == note

    with api.client() as client:
        shown = client.get(f"/v1/incidents/{incident_id}").json()
    assert shown["incident"]["status"] == "resolved"

    again = _resolve(api, incident_id, {"note": note, "notify": True})
    assert again.status_code == 200 and again.json()["notified"] == 0  # nobody waits for it
    quiet = _resolve(api, incident_id, {"note": "again", "notify": False})
    assert quiet.status_code == 200 and quiet.json()["notified"] == 0
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    ("key", "body", "status"),
    [
        ("INC-0000000000", {"note": "fixed"}, 404),
        ("INC-", {"note": "   "}, 400),
        ("INC-", {}, 400),
        ("INC-", {"note": "x", "extra": 1}, 400),
    ],
)
def test_bad_resolves(api: RunningApi, key: str, body: dict[str, Any], status: int) -> None:
    answer = _resolve(api, key, body)
    assert answer.status_code == status, answer.text
