"""AIOPS_API_TOKEN enforced on every endpoint except health, over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.api_server import RunningApi, options_for, running_api

TOKEN = "s3cret-token-for-tests"
GUARDED = [
    ("GET", "/v1/incidents"),
    ("GET", "/v1/incidents/INC-x"),
    ("POST", "/v1/incidents/INC-x/feedback"),
    ("GET", "/v1/templates"),
    ("POST", "/v1/logs"),
    ("POST", "/loki/api/v1/push"),
    ("POST", "/_bulk"),
    ("POST", "/v1/otlp/logs"),
    ("POST", "/v1/analyze"),
    ("POST", "/v1/flush"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
]


@pytest.fixture(scope="module")
def guarded_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    folder: Path = tmp_path_factory.mktemp("auth")
    with running_api(options_for(folder, token=TOKEN)) as running:
        yield running


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_no_token_is_refused(guarded_api: RunningApi, method: str, path: str) -> None:
    with guarded_api.client(headers={"Authorization": ""}) as client:
        response = client.request(method, path, content=b"x")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.text


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Basic {base64.b64encode(b'user:wrong').decode()}",
        "Basic !!!not-base64",
        f"Token {TOKEN}",
    ],
)
def test_wrong_token_is_refused(guarded_api: RunningApi, header: str) -> None:
    with guarded_api.client(headers={"Authorization": header}) as client:
        assert client.get("/v1/incidents").status_code == 401


def test_right_token_is_let_in(guarded_api: RunningApi) -> None:
    with guarded_api.client() as client:
        assert client.get("/v1/incidents").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/openapi.json").json()["info"]["title"] == "AI Ops Copilot"
        pushed = client.post("/v1/logs", content=b"ERROR something broke\n")
        assert pushed.status_code == 202


def test_basic_auth_with_the_token_as_password(guarded_api: RunningApi) -> None:
    """For shippers that can only send a user and password (Fluent Bit's es output)."""
    basic = base64.b64encode(f"fluent-bit:{TOKEN}".encode()).decode()
    with guarded_api.client(headers={"Authorization": f"Basic {basic}"}) as client:
        assert client.get("/").status_code == 200


def test_health_needs_no_token(guarded_api: RunningApi) -> None:
    with guarded_api.client(headers={"Authorization": ""}) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"ingest_worker": "ok", "store": "ok"}


def test_openapi_declares_the_bearer_scheme(guarded_api: RunningApi) -> None:
    with guarded_api.client() as client:
        schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
