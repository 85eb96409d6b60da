"""Fixers cite memory: runbook passages and similar past incidents, above a threshold, never
at the cost of the diagnosis."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.memory.incidents import (
    IncidentMemo,
    record_resolution,
    remember,
    text_of,
)
from aiops_copilot.memory.recall import MemoryRecall, Thresholds
from aiops_copilot.memory.runbooks import add_paths
from aiops_copilot.memory.vectors import Kind, VectorMemory
from aiops_copilot.models import (
    AnalysisResult,
    Diagnosis,
    Incident,
    RunbookPassage,
    SimilarIncident,
)
from aiops_copilot.parsing.miner import TemplateMiner

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "tests" / "evals"
RUNBOOKS = ROOT / "tests" / "data" / "retrieval" / "runbooks"
MARIADB = EVALS / "database" / "mariadb-too-many-connections-leaking-consumer"
POSTGRES = EVALS / "database" / "postgres-connection-leak-slots-exhausted"


def run(case: Path, memory: object = None) -> AnalysisResult:
    inputs = open_inputs([str(case / "logs")])
    options = AnalysisOptions(detectors=default_detectors(), memory=memory)  # type: ignore[arg-type]
    return analyze(
        inputs, iter_records(inputs, ReadOptions()), TemplateMiner(), load_knowledge(), options
    )


class FixedLookup:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        self.calls.append((incident.id, diagnosis.title if diagnosis else None))
        return [RunbookPassage("Team › Fix it", "Do the thing.", "team.md", 0.9, line=3)][:k]

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        return [SimilarIncident("fp-old", "Same last week", 0.8, resolution="restarted")][:k]


class BrokenLookup:
    def runbook_passages(self, *args: object, **kwargs: object) -> list[RunbookPassage]:
        raise RuntimeError("server went away")

    def similar_incidents(self, *args: object, **kwargs: object) -> list[SimilarIncident]:
        raise RuntimeError("server went away")


def test_diagnoses_carry_what_the_lookup_gives() -> None:
    lookup = FixedLookup()
    result = run(MARIADB, lookup)
    diagnosed = [i for i in result.incidents if i.diagnosis is not None]
    assert diagnosed
    for incident in diagnosed:
        assert incident.diagnosis is not None
        assert incident.diagnosis.runbooks[0].title == "Team › Fix it"
        assert incident.diagnosis.similar[0].resolution == "restarted"
    assert all(title for _, title in lookup.calls)  # the fixer's diagnosis goes into the query


def test_a_failing_lookup_costs_nothing_but_the_citations() -> None:
    plain = run(MARIADB)
    broken = run(MARIADB, BrokenLookup())
    assert [i.fingerprint for i in broken.incidents] == [i.fingerprint for i in plain.incidents]
    for before, after in zip(plain.incidents, broken.incidents, strict=True):
        assert after.diagnosis is not None and before.diagnosis is not None
        assert after.diagnosis.root_cause == before.diagnosis.root_cause
        assert after.diagnosis.runbooks == [] and after.diagnosis.similar == []


@pytest.fixture
def memory(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = VectorMemory.open(path=tmp_path / "qdrant")
    add_paths(opened, [str(RUNBOOKS)])
    yield opened
    opened.close()


def test_real_memory_cites_the_team_runbook_and_a_past_incident(memory: VectorMemory) -> None:
    recall = MemoryRecall(memory)
    first = run(MARIADB, recall)
    top = first.incidents[0]
    assert top.diagnosis is not None
    passages = top.diagnosis.runbooks
    assert passages and passages[0].source.endswith("mysql.md")
    assert passages[0].title.endswith("Too many connections (error 1040)")
    assert all(p.score >= recall.thresholds.runbook for p in passages)
    # Passages already cited through the signature match are not repeated.
    assert not set(top.diagnosis.entry_ids) & {p.entry_id for p in passages if p.entry_id}
    assert top.diagnosis.similar == []  # nothing remembered yet
    assert recall.remember(first.incidents) == len({i.fingerprint for i in first.incidents})

    second = run(POSTGRES, MemoryRecall(memory))
    similar = second.incidents[0].diagnosis.similar  # type: ignore[union-attr]
    assert top.fingerprint in [s.fingerprint for s in similar]

    again = run(MARIADB, MemoryRecall(memory))  # the same fingerprint is not "similar"
    for incident in again.incidents:
        found = incident.diagnosis.similar if incident.diagnosis else []
        assert incident.fingerprint not in [s.fingerprint for s in found]


def test_thresholds_keep_weak_matches_out(memory: VectorMemory) -> None:
    strict = MemoryRecall(memory, thresholds=Thresholds(runbook=0.99, incident=0.99))
    result = run(MARIADB, strict)
    assert all(
        i.diagnosis is None or (not i.diagnosis.runbooks and not i.diagnosis.similar)
        for i in result.incidents
    )


def test_remember_counts_sightings_and_keeps_resolution_notes(memory: VectorMemory) -> None:
    memo = IncidentMemo("fp-1", "Disk full", "No space left on device on /data", domain="x")
    remember(memory, [memo])
    assert record_resolution(memory, "fp-1", "grew the volume to 50 GB")
    assert not record_resolution(memory, "fp-unknown", "n/a")
    remember(memory, [memo, memo])  # twice in one run: one sighting
    hit = memory.search(Kind.INCIDENTS, "disk full", 1)[0]
    assert hit.payload["times_seen"] == 2
    assert hit.payload["resolution"] == "grew the volume to 50 GB"
    assert memory.count(Kind.INCIDENTS) == 1


def test_query_text_uses_templates_and_a_recognised_diagnosis() -> None:
    result = run(MARIADB)
    top = result.incidents[0]
    text = text_of(top)
    assert top.title in text and "<NUM>" not in text
    assert top.diagnosis is not None and top.diagnosis.title in text


def test_knowledge_passages_about_other_software_are_left_out() -> None:
    from aiops_copilot.memory.recall import _other_software

    postgres = {"postgresql"}
    assert _other_software("mysql-too-many-connections", postgres)
    assert not _other_software("postgresql-not-accepting-connections", postgres)
    assert not _other_software(None, postgres)  # a team runbook always stays
    assert not _other_software("mysql-too-many-connections", set())  # nothing known: keep
