"""An Incident back from the JSON contract: the exact round trip on what the pipeline writes.

The property every test here checks is ``incident_to_dict(incident_from_dict(d)) == d`` for
``d = incident_to_dict(x)``, with ``x`` from a real analysis (the shipped examples and every eval
fixture), from the store (history), from memory citations and from a model's provenance; then
what an older release's dict loads as, and how a malformed one is refused.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_samples import SAMPLES, database_incident

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.models import (
    AnalysisResult,
    Classification,
    Diagnosis,
    Domain,
    Incident,
    IncidentStatus,
    ModelProvenance,
    RunbookPassage,
    Severity,
    SimilarIncident,
)
from aiops_copilot.parsing.miner import TemplateMiner
from aiops_copilot.report.incident_load import incident_from_dict
from aiops_copilot.report.incidents_json import incident_to_dict
from aiops_copilot.report.view import domain_of, entry_ids_of, evidence_of, title_of
from aiops_copilot.store import Store
from eval_harness import cases

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: Every input a real analysis is run on: each eval fixture's logs, the examples folder as
#: ``aiops analyze examples`` reads it, and each of its sub-folders on its own.
INPUTS = [case / "logs" for case in cases()] + [
    EXAMPLES,
    *sorted(p for p in EXAMPLES.iterdir() if p.is_dir()),
]
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def analyse(logs: Path, kb: KnowledgeBase, memory: object = None) -> AnalysisResult:
    """``aiops analyze <logs>`` in-process (as tests/eval_harness.py runs a case)."""
    inputs = open_inputs([str(logs)])
    options = AnalysisOptions(detectors=default_detectors(), memory=memory)  # type: ignore[arg-type]
    return analyze(inputs, iter_records(inputs, ReadOptions()), TemplateMiner(), kb, options)


def assert_round_trip(incident: Incident) -> Incident:
    """The contract of ``incident`` survives load and dump exactly, also through JSON text
    (what the store keeps); the loaded incident is returned for further checks."""
    written = incident_to_dict(incident)
    stored = json.loads(json.dumps(written, ensure_ascii=False, allow_nan=False))
    before = copy.deepcopy(stored)
    loaded = incident_from_dict(stored)
    assert stored == before  # the input is not touched
    again = incident_to_dict(loaded)
    assert again == written, [key for key in written if again.get(key) != written[key]]
    return loaded


# -- real analyses -----------------------------------------------------------------------


@pytest.mark.parametrize("logs", INPUTS, ids=_name)
def test_round_trip_on_every_incident_of_a_real_analysis(logs: Path, kb: KnowledgeBase) -> None:
    result = analyse(logs, kb)
    for incident in result.incidents:
        loaded = assert_round_trip(incident)
        # What renderers read comes back as it was, in the model's own types.
        assert loaded.severity is incident.severity
        assert loaded.minutes == incident.minutes
        assert (loaded.first_seen, loaded.last_seen) == (incident.first_seen, incident.last_seen)
        assert loaded.lines == incident.lines and loaded.templates == incident.templates
        assert title_of(loaded) == title_of(incident)
        assert domain_of(loaded) == domain_of(incident)
        assert entry_ids_of(loaded) == entry_ids_of(incident)
        assert evidence_of(loaded, 10) == evidence_of(incident, 10)


def test_the_real_analyses_give_enough_incidents_to_mean_something(kb: KnowledgeBase) -> None:
    incidents = [i for logs in INPUTS for i in analyse(logs, kb).incidents]
    assert len(incidents) >= 30
    assert any(i.diagnosis is not None for i in incidents)
    assert any(i.minutes for i in incidents) and any(i.classification for i in incidents)


def test_round_trip_with_history_from_a_real_store(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Every incident analysed twice into one SQLite store carries history the second time,
    some of it resolved with a note; and the report the store kept loads back too."""
    logs = [case / "logs" for case in cases()]
    with Store(tmp_path / "aiops.db") as store:
        first = [analyse(path, kb) for path in logs]
        for n, result in enumerate(first):
            store.record(result, now=NOW + timedelta(minutes=n))
        resolved = {i.id for result in first[::3] for i in result.incidents}
        for incident_id in resolved:
            store.resolve(incident_id, "restarted the pool\nand raised max_connections", now=NOW)
        second = [analyse(path, kb) for path in logs]
        for n, result in enumerate(second):
            store.record(result, now=NOW + timedelta(days=1, minutes=n))
        incidents = [i for result in second for i in result.incidents]
        assert incidents and all(i.history is not None for i in incidents)
        for incident in incidents:
            loaded = assert_round_trip(incident)
            assert loaded.history == incident.history
        notes = [i for i in incidents if i.history and i.history.last_resolution_note]
        statuses = {i.history.status for i in notes if i.history}
        assert notes and statuses <= {IncidentStatus.RESOLVED, IncidentStatus.RECURRED}

        for incident in incidents[:10]:
            report = store.incident(incident.id).occurrences[0].report
            assert "history" not in report  # the store keeps history in its own rows
            assert incident_to_dict(incident_from_dict(report)) == {**report, "history": None}


class FixedMemory:
    """Memory citations as the vector memory gives them, without a vector store."""

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        return [
            RunbookPassage("Team › Too many connections", "Raise the pool.", "db.md", 0.81234, 12),
            RunbookPassage("KB entry", "From the knowledge base.", "kb:x", 0.6, entry_id="x"),
        ][:k]

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        return [
            SimilarIncident(
                "fp-old",
                "Same last week",
                0.777777,
                domain="database",
                root_cause="a leak",
                resolution="restarted",
                last_seen=NOW - timedelta(days=7),
                times_seen=3,
            ),
            SimilarIncident("fp-older", "Something like it", 0.5),
        ][:k]


@pytest.mark.parametrize(
    "case",
    ["postgres-connection-leak-slots-exhausted", "mariadb-too-many-connections-leaking-consumer"],
)
def test_round_trip_with_memory_citations(case: str, kb: KnowledgeBase) -> None:
    logs = ROOT / "tests" / "evals" / "database" / case / "logs"
    incidents = analyse(logs, kb, FixedMemory()).incidents
    cited = [i for i in incidents if i.diagnosis is not None and i.diagnosis.runbooks]
    assert cited
    for incident in cited:
        loaded = assert_round_trip(incident)
        assert loaded.diagnosis is not None and incident.diagnosis is not None
        assert loaded.diagnosis.similar[0].last_seen == NOW - timedelta(days=7)
        assert loaded.diagnosis.runbooks[1].entry_id == "x"


def test_round_trip_with_a_model_provenance(kb: KnowledgeBase) -> None:
    case = ROOT / "tests" / "evals" / "database" / "postgres-connection-leak-slots-exhausted"
    incident = analyse(case / "logs", kb).incidents[0]
    assert incident.diagnosis is not None
    provenance = ModelProvenance(
        provider="ollama",
        model="qwen2.5:3b",
        fields=["title", "root_cause", "hypotheses", "remediation"],
        confidence=0.8,
        domain="database",
        cited=["E1", "K1"],
        citations={"E1": "postgresql.log:12", "K1": "knowledge base postgresql-too-many-clients"},
        model_items={"hypotheses": 2, "remediation": 1},
        deterministic={"title": "the fixer's title", "root_cause": "the fixer's cause"},
        cached=True,
    )
    incident.diagnosis.llm = provenance
    loaded = assert_round_trip(incident)
    assert loaded.diagnosis is not None and loaded.diagnosis.llm == provenance


# -- what the contract loses, and how the round trip still holds ------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_round_trip_on_the_hand_built_samples(name: str) -> None:
    """Python facts (datetimes, sets, enums, NaN, paths, tuple keys), a confidence above 1, an
    incident nothing classified or diagnosed, one classified but undiagnosed."""
    make: Callable[[], AnalysisResult] = SAMPLES[name]
    for incident in make().incidents:
        assert_round_trip(incident)


def test_facts_come_back_as_json_wrote_them() -> None:
    loaded = incident_from_dict(incident_to_dict(database_incident()))
    assert loaded.diagnosis is not None
    facts = loaded.diagnosis.facts
    assert facts["seen_at"] == "2026-11-23T23:24:01+00:00"  # a string, not a datetime
    assert facts["users"] == ["shop"] and facts["ratio"] is None
    assert facts["colour"] == "red" and facts["path"] == "/var/lib/postgresql"


def test_a_classification_tie_made_by_rounding_keeps_its_ranking(kb: KnowledgeBase) -> None:
    """Scores equal only after rounding to four decimals must keep the top domain written."""
    case = ROOT / "tests" / "evals" / "database" / "postgres-connection-leak-slots-exhausted"
    incident = analyse(case / "logs", kb).incidents[0]
    scores = dict.fromkeys(Domain, 0.0)
    scores.update({Domain.NETWORK: 0.500031, Domain.DATABASE: 0.500029, Domain.APPLICATION: 0.5})
    incident.classification = Classification(scores=scores, reasons={Domain.NETWORK: ["x"]})
    loaded = assert_round_trip(incident)
    assert domain_of(loaded) == "network"
    assert loaded.classification is not None
    assert [d for d, _ in loaded.classification.ranked][:3] == [
        Domain.NETWORK,
        Domain.DATABASE,
        Domain.APPLICATION,
    ]


# -- older and partial dicts -------------------------------------------------------------

MINIMAL = {"id": "INC-1", "fingerprint": "fp:1", "severity": "high"}


def test_the_three_required_keys_are_enough() -> None:
    incident = incident_from_dict(MINIMAL)
    assert (incident.id, incident.fingerprint) == ("INC-1", "fp:1")
    assert incident.severity is Severity.HIGH
    assert incident.title == "" and incident.count == 0 and incident.score == 0.0
    assert incident.signals == [] and incident.lines == [] and incident.minutes == {}
    assert incident.first_seen is None and incident.classification is None
    assert incident.diagnosis is None and incident.history is None


def test_a_diagnosis_needs_only_its_agent() -> None:
    incident = incident_from_dict({**MINIMAL, "title": "Slots exhausted", "agent": "database"})
    assert incident.diagnosis is not None
    assert incident.diagnosis.title == "Slots exhausted" and incident.diagnosis.root_cause == ""
    assert domain_of(incident) == "database" and title_of(incident) == "Slots exhausted"


def test_an_older_dict_without_the_newer_keys_loads(kb: KnowledgeBase) -> None:
    case = ROOT / "tests" / "evals" / "database" / "postgres-connection-leak-slots-exhausted"
    incident = analyse(case / "logs", kb).incidents[0]
    data = incident_to_dict(incident)
    newer = ("timeline", "history", "runbooks", "similar", "llm", "evidence_lines", "formats")
    for key in newer:
        del data[key]
    for line in data["lines"]:
        del line["end_line"]  # a single line when not said otherwise
    loaded = incident_from_dict(data)
    assert loaded.minutes == {} and loaded.formats == []
    assert loaded.diagnosis is not None and loaded.diagnosis.evidence == []
    assert [ref.end_line for ref in loaded.lines] == [ref.line_no for ref in loaded.lines]
    assert evidence_of(loaded, 3) == loaded.lines[:3]  # falls back to the incident's lines


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation putting ``value`` at ``path`` (``a.b`` keys, ``[0]`` list items)."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key)


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no id", _drop("id"), "required key 'id' is missing"),
    ("no fingerprint", _drop("fingerprint"), "required key 'fingerprint' is missing"),
    ("no severity", _drop("severity"), "required key 'severity' is missing"),
    ("id a number", _set("id", 7), "id must be a string, got a number"),
    ("unknown severity", _set("severity", "urgent\n!"), "severity is 'urgent\\n!', not one of"),
    ("severity a list", _set("severity", ["high"]), "severity is ['high'], not one of"),
    ("count a string", _set("count", "3"), "count must be an integer, got a string"),
    ("count a boolean", _set("count", True), "count must be an integer, got a boolean"),
    ("score a string", _set("score", "high"), "score must be a number, got a string"),
    ("hosts a string", _set("hosts", "db-1"), "hosts must be a list, got a string"),
    ("a host a number", _set("hosts", ["db-1", 2]), "hosts[1] must be a string"),
    ("signals an object", _set("signals", {}), "signals must be a list, got an object"),
    ("a signal a number", _set("signals", [1]), "signals[0] must be an object, got a number"),
    ("unknown signal kind", _set("signals[0].kind", "psychic"), "signals[0].kind is 'psychic'"),
    ("no signal reason", lambda d: d["signals"][0].pop("reason"), "'signals[0].reason' is missing"),
    ("first_seen a date word", _set("first_seen", "yesterday"), "first_seen is 'yesterday'"),
    ("a timeline minute a number", _set("timeline[0].minute", 5), "minute must be an ISO"),
    ("unknown domain", _set("classification.scores", {"cooking": 1.0}), "scores.cooking is"),
    ("classification a list", _set("classification", []), "must be an object or null"),
    ("history without times", _set("history", {"times_seen": 2}), "'history.first_seen_at'"),
    ("agent a number", _set("agent", 5), "agent must be a string, got a number"),
    ("facts a list", _set("facts", []), "facts must be an object, got a list"),
    ("an entity count a string", _set("entities", {"db=x": "many"}), "entities.db=x must be"),
    ("a line without text", lambda d: d["lines"][0].pop("text"), "'lines[0].text' is missing"),
    ("model items a string", _set("llm", {"provider": "p", "model": "m", "fields": [],
        "confidence": 1, "domain": "d", "model_items": {"hypotheses": "2"}}),
        "llm.model_items.hypotheses must be an integer"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "mutate", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_dict_is_one_clear_value_error(
    name: str, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = incident_to_dict(database_incident())
    data["history"] = {
        "times_seen": 2,
        "first_seen_at": NOW.isoformat(),
        "last_seen_at": NOW.isoformat(),
        "status": "open",
    }
    mutate(data)
    with pytest.raises(ValueError) as raised:
        incident_from_dict(data)
    text = str(raised.value)
    assert message in text and "\n" not in text


@pytest.mark.parametrize("data", [None, [], "INC-1", 3], ids=repr)
def test_something_other_than_an_object_is_a_value_error(data: Any) -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        incident_from_dict(data)
