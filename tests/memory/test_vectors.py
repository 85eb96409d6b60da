"""VectorMemory on a real Qdrant in local mode, on disk: ids, persistence, re-indexing, locks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from memory_helpers import HashEmbedder

from aiops_copilot.memory.vectors import (
    Document,
    Kind,
    MemoryUnavailable,
    VectorMemory,
    collection_name,
    point_id,
)

DOCS = [
    Document("pg-slots", "PostgreSQL too many clients: connection slots exhausted", {"n": 1}),
    Document("disk", "No space left on device: the data volume is full", {"n": 2}),
    Document("tls", "TLS certificate has expired; renew and reload nginx", {"n": 3}),
]


@pytest.fixture
def memory(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = VectorMemory.open(path=tmp_path / "qdrant")
    yield opened
    opened.close()


def test_search_finds_by_meaning_and_words(memory: VectorMemory) -> None:
    assert memory.upsert(Kind.RUNBOOKS, DOCS) == 3
    hits = memory.search(Kind.RUNBOOKS, "FATAL: sorry, too many clients already", 2)
    assert hits[0].payload["key"] == "pg-slots"
    assert hits[0].payload["n"] == 1 and "text" in hits[0].payload
    assert 0 < hits[0].score <= 1 and hits[0].score >= hits[1].score
    assert hits[0].lexical > 0
    assert memory.search(Kind.RUNBOOKS, "   ", 3) == []


def test_same_key_updates_instead_of_duplicating(memory: VectorMemory) -> None:
    memory.upsert(Kind.RUNBOOKS, DOCS)
    memory.upsert(Kind.RUNBOOKS, [Document("disk", "Disk full on /var", {"n": 20})])
    memory.upsert(Kind.RUNBOOKS, DOCS[:1])
    assert memory.count(Kind.RUNBOOKS) == 3
    hit = memory.search(Kind.RUNBOOKS, "disk full", 1)[0]
    assert hit.payload["n"] == 20 and hit.payload["text"] == "Disk full on /var"
    assert point_id("runbooks", "disk") == point_id(Kind.RUNBOOKS, "disk")
    assert point_id(Kind.RUNBOOKS, "disk") != point_id(Kind.INCIDENTS, "disk")


def test_filters_keep_and_exclude(memory: VectorMemory) -> None:
    memory.upsert(
        Kind.RUNBOOKS,
        [Document(d.key, d.text, {"kind": "kb" if d.key == "disk" else "runbook"}) for d in DOCS],
    )
    only_kb = memory.search(Kind.RUNBOOKS, "full", 5, where={"kind": "kb"})
    assert [h.payload["key"] for h in only_kb] == ["disk"]
    without = memory.search(Kind.RUNBOOKS, "full", 5, exclude={"kind": ["kb"]})
    assert "disk" not in [h.payload["key"] for h in without]


def test_batches_larger_than_one_request(memory: VectorMemory) -> None:
    docs = [Document(f"k{n}", f"incident number {n} in service s{n % 7}") for n in range(600)]
    assert memory.upsert(Kind.INCIDENTS, docs) == 600
    assert memory.count(Kind.INCIDENTS) == 600
    assert len(memory.keys(Kind.INCIDENTS)) == 600


def test_collection_records_model_and_dimension(memory: VectorMemory) -> None:
    memory.upsert(Kind.RUNBOOKS, DOCS)
    meta = memory.metadata(Kind.RUNBOOKS)
    assert meta["model"] == memory.embedder.name and meta["dimension"] == 256
    assert memory.name(Kind.RUNBOOKS) == collection_name(
        Kind.RUNBOOKS, memory.embedder.name, memory.embedder.dimension
    )
    assert "d256" in memory.name(Kind.RUNBOOKS)


def test_model_change_reindexes_from_stored_texts(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    with VectorMemory.open(path=folder, embedder=HashEmbedder()) as old:
        old.upsert(Kind.RUNBOOKS, DOCS)
        old_name = old.name(Kind.RUNBOOKS)
        assert old.metadata(Kind.RUNBOOKS)["dimension"] == 32
    with VectorMemory.open(path=folder) as new:
        assert new.count(Kind.RUNBOOKS) == 3  # re-embedded, not lost
        names = {c.name for c in new.client.get_collections().collections}
        assert new.name(Kind.RUNBOOKS) in names and old_name not in names
        hit = new.search(Kind.RUNBOOKS, "certificate expired", 1)[0]
        assert hit.payload["key"] == "tls" and hit.payload["n"] == 3
        assert new.metadata(Kind.RUNBOOKS)["model"] == new.embedder.name


WRITER = """
import sys
from aiops_copilot.memory.vectors import Document, VectorMemory
with VectorMemory.open(path=sys.argv[1]) as m:
    m.upsert("incidents", [Document("fp-1", "Redis MISCONF: RDB snapshots fail", {"title": "r"})])
"""
READER = """
import sys
from aiops_copilot.memory.vectors import VectorMemory
with VectorMemory.open(path=sys.argv[1]) as m:
    hits = m.search("incidents", "redis cannot persist rdb", 1)
    print(m.count("incidents"), hits[0].payload["key"], hits[0].payload["title"])
"""


def test_persisted_across_processes(tmp_path: Path) -> None:
    folder = str(tmp_path / "qdrant")
    subprocess.run([sys.executable, "-c", WRITER, folder], check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-c", READER, folder],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.split() == ["1", "fp-1", "r"]


def test_a_second_user_of_the_folder_is_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    with VectorMemory.open(path=folder):
        started = time.monotonic()
        with pytest.raises(MemoryUnavailable) as error:
            VectorMemory.open(path=folder)
        assert time.monotonic() - started < 5  # never a wait on the lock
        assert "in use by another aiops process" in str(error.value)
        assert "\n" not in str(error.value)
    VectorMemory.open(path=folder).close()  # free again once closed


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MemoryUnavailable) as error:
        VectorMemory.open(url="http://127.0.0.1:9", timeout=2)
    assert "not reachable" in str(error.value) and "\n" not in str(error.value)


def test_a_corrupt_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    folder.mkdir()
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(MemoryUnavailable) as error:
        VectorMemory.open(path=folder)
    assert "\n" not in str(error.value)
