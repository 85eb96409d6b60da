"""The read API and feedback over real HTTP, on incidents the live pipeline stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.store.sql import Store
from api.api_server import RunningApi, eval_lines, options_for, running_api

CASES = (
    ("network/nginx-upstream-connection-refused", "error.log"),
    ("database/postgres-connection-leak-slots-exhausted", "postgresql.log"),
    ("security/ssh-password-bruteforce", "auth.log"),
)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """A server that has analysed three real failures (three domains)."""
    folder: Path = tmp_path_factory.mktemp("read")
    with running_api(options_for(folder)) as api:
        with api.client() as client:
            for case, log in CASES:
                lines = eval_lines(case, log)
                response = client.post(
                    "/v1/logs", params={"source": log}, content="\n".join(lines).encode()
                )
                assert response.status_code == 202
        assert api.flush()["incidents"] >= 3
        yield api


def _get(api: RunningApi, path: str, **params: Any) -> Any:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_list_and_filters(filled: RunningApi) -> None:
    everything = _get(filled, "/v1/incidents")
    assert everything["total"] == len(everything["items"]) >= 3
    domains = {item["domain"] for item in everything["items"]}
    assert {"network", "database", "security"} <= domains
    for domain in ("network", "database", "security"):
        page = _get(filled, "/v1/incidents", domain=domain)
        assert page["items"] and all(i["domain"] == domain for i in page["items"])
    high = _get(filled, "/v1/incidents", severity="high")
    assert all(i["severity"] == "high" for i in high["items"])
    assert _get(filled, "/v1/incidents", status="resolved")["total"] == 0
    assert _get(filled, "/v1/incidents", since="1h")["total"] == everything["total"]
    assert _get(filled, "/v1/incidents", since="2999-01-01")["total"] == 0


def test_paging_covers_every_incident_once(filled: RunningApi) -> None:
    total = _get(filled, "/v1/incidents")["total"]
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = _get(filled, "/v1/incidents", limit=1, offset=offset)
        assert page["total"] == total and len(page["items"]) == 1
        seen.append(page["items"][0]["id"])
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == total
    beyond = _get(filled, "/v1/incidents", offset=total + 5)
    assert beyond["items"] == [] and beyond["next_offset"] is None


def test_detail_by_id_and_prefix(filled: RunningApi) -> None:
    first = _get(filled, "/v1/incidents", domain="network")["items"][0]
    detail = _get(filled, f"/v1/incidents/{first['id']}")
    assert detail["incident"]["id"] == first["id"]
    assert detail["latest"]["domain"] == "network"
    assert detail["latest"]["root_cause"]
    assert len(detail["occurrences"]) == 1
    by_prefix = _get(filled, f"/v1/incidents/{first['id'][:-2]}")
    assert by_prefix["incident"]["id"] == first["id"]


def test_feedback_reroutes_like_the_cli(filled: RunningApi) -> None:
    target = _get(filled, "/v1/incidents", domain="security")["items"][0]
    with filled.client() as client:
        response = client.post(
            f"/v1/incidents/{target['id']}/feedback",
            json={"domain": "network", "note": "the scanner is our own probe"},
        )
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["incident_id"] == target["id"]
    assert outcome["rules"] == [
        {"fingerprint": target["fingerprint"], "kind": "domain", "value": "network", "weight": 1.0}
    ]
    detail = _get(filled, f"/v1/incidents/{target['id']}")
    assert detail["incident"]["domain"] == "network"
    assert [f["kind"] for f in detail["feedback"]] == ["domain"]
    assert detail["feedback"][0]["note"] == "the scanner is our own probe"
    with Store(filled.state.settings.store.url) as store:
        learned = store.learned()
    assert learned.domain_for(target["fingerprint"]) is not None


def test_feedback_wrong_lowers_signature_weights(filled: RunningApi) -> None:
    target = _get(filled, "/v1/incidents", domain="database")["items"][0]
    with filled.client() as client:
        response = client.post(f"/v1/incidents/{target['id']}/feedback", json={"verdict": "wrong"})
    assert response.status_code == 200
    rules = response.json()["rules"]
    assert rules and all(r["kind"] == "signature_weight" and r["weight"] < 1 for r in rules)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "say something"),
        ({"verdict": "correct", "split": True}, "cannot come with"),
        ({"merge": "INC-x", "split": True}, "contradict"),
        ({"verdict": "maybe"}, "verdict"),
        ({"domain": "kitchen"}, "domain"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_feedback_is_400(filled: RunningApi, body: dict[str, Any], words: str) -> None:
    target = _get(filled, "/v1/incidents")["items"][0]
    with filled.client() as client:
        response = client.post(f"/v1/incidents/{target['id']}/feedback", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_feedback_on_unknown_or_self_merge(filled: RunningApi) -> None:
    target = _get(filled, "/v1/incidents")["items"][0]
    with filled.client() as client:
        unknown = client.post("/v1/incidents/INC-none/feedback", json={"verdict": "correct"})
        itself = client.post(f"/v1/incidents/{target['id']}/feedback", json={"merge": target["id"]})
    assert unknown.status_code == 404
    assert itself.status_code == 400 and "itself" in itself.json()["error"]


def test_status_filter_after_a_resolution(filled: RunningApi) -> None:
    target = _get(filled, "/v1/incidents", domain="network")["items"][0]
    with Store(filled.state.settings.store.url) as store:
        store.resolve(target["id"], "restarted the upstream")
    resolved = _get(filled, "/v1/incidents", status="resolved")
    assert [i["id"] for i in resolved["items"]] == [target["id"]]
    assert resolved["items"][0]["resolution_note"] == "restarted the upstream"
    still_open = _get(filled, "/v1/incidents", status="open")
    assert target["id"] not in {i["id"] for i in still_open["items"]}


def test_templates(filled: RunningApi) -> None:
    found = _get(filled, "/v1/templates", limit=500)
    assert found and all(t["total"] >= 0 for t in found)
    totals = [t["total"] for t in found]
    assert totals == sorted(totals, reverse=True)
    refused = _get(filled, "/v1/templates", search="connection refused")
    assert refused and all(
        "connection refused" in (t["template"] + t["example"]).lower() for t in refused
    )
    assert len(_get(filled, "/v1/templates", limit=2)) == 2
