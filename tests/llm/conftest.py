"""Fixtures of the LLM tests: one fake model server process for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llm.llm_support import EXAMPLES, FakeServer, analyse, fake_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServer]:
    record = tmp_path_factory.mktemp("llm") / "requests.jsonl"
    with fake_server(record) as running:
        yield running


@pytest.fixture
def fake(server: FakeServer) -> FakeServer:
    """The server in its default mode with an empty record."""
    server.set_mode("normal")
    return server


@pytest.fixture(scope="session")
def examples_analysis() -> tuple[Any, Any]:
    """The shipped examples through the real pipeline once: (AnalysisResult, KnowledgeBase).
    Tests that change incidents work on deep copies."""
    return analyse(EXAMPLES)
