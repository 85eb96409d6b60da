"""Fixtures for the API tests: one shared server for the tests that only add to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")

from api.api_server import RunningApi, options_for, running_api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """A server with default limits, shared by a module's tests."""
    folder: Path = tmp_path_factory.mktemp("api")
    with running_api(options_for(folder)) as running:
        yield running
