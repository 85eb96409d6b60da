"""Fixtures of the CrewAI engine tests: one fake model server process for the session.

The server is the LLM tests' real subprocess (``tests/llm/fake_llm_server.py``), which records
every request it receives; tests assert on what went over the wire, never on mocks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llm.llm_support import FakeServer, fake_server


@pytest.fixture(scope="session")
def crew_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServer]:
    record = tmp_path_factory.mktemp("crew-llm") / "requests.jsonl"
    with fake_server(record) as running:
        yield running
