"""A property-based run over the OpenAPI document (schemathesis): whatever a client sends
within — or just outside — the schema, the server never answers 5xx, and its answers match
what the document says (status codes, content types, response schemas).

Bounded: a few examples per operation, so the whole run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")

from hypothesis import HealthCheck, settings  # noqa: E402

from aiops_copilot.api.app import create_app  # noqa: E402
from aiops_copilot.api.options import ServeOptions  # noqa: E402
from api.api_server import RunningApi, options_for, running_api  # noqa: E402

#: The document the running server serves (same options, so the same schema).
SCHEMA = schemathesis.openapi.from_dict(create_app(ServeOptions()).openapi())
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: Any, value: Any) -> bytes:
    """Bodies the schema calls strings go out as they are (NDJSON is text)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", errors="surrogatepass")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    folder: Path = tmp_path_factory.mktemp("schema")
    with running_api(options_for(folder, max_body_bytes=256 * 1024)) as api:
        yield api


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: Any, fuzzed: RunningApi) -> None:
    case.call_and_validate(base_url=fuzzed.url, checks=CHECKS, timeout=60)
