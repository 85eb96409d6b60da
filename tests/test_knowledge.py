"""The knowledge base: schema, loading, and every shipped signature against its own examples."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aiops_copilot.knowledge.loader import check, load_knowledge
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Domain

SHIPPED = load_knowledge()
VALID = {
    "id": "demo-thing-broke",
    "domain": "database",
    "software": "demo",
    "title": "Thing broke",
    "severity": "high",
    "match": {"regex": r"thing \d+ broke", "keywords": ["broke"]},
    "examples": ["2026-01-01 ERROR thing 42 broke"],
    "counter_examples": ["2026-01-01 INFO thing 42 fine"],
    "root_cause": "Because.",
    "remediation": ["Fix it."],
    "references": ["https://example.org/docs"],
}


def write(tmp_path: Path, domain: str, entries: list[dict[str, object]]) -> Path:
    folder = tmp_path / domain
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.yaml").write_text(yaml.safe_dump(entries))
    return tmp_path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Bad_Id"}, "id"),
        ({"domain": "weather"}, "domain"),
        ({"severity": "urgent"}, "severity"),
        ({"match": {}}, "match needs a regex, keywords, or both"),
        ({"match": {"regex": "(unclosed"}}, "regex does not compile"),
        ({"examples": []}, "examples"),
        ({"references": ["not a url"]}, "references"),
        ({"remediation": []}, "remediation"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_entries_are_reported_precisely(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    kb = load_knowledge([write(tmp_path, "database", [{**VALID, **change}])], shipped=False)
    assert len(kb) == 0
    assert len(kb.problems) == 1
    assert message in str(kb.problems[0])
    assert "demo.yaml#1" in str(kb.problems[0])


def test_examples_are_checked_against_the_match(tmp_path: Path) -> None:
    entry = {**VALID, "examples": ["thing x broke"], "counter_examples": ["thing 7 broke"]}
    kb = load_knowledge([write(tmp_path, "database", [entry])], shipped=False)
    problems = [str(p) for p in check(kb)]
    assert any("example does not match" in p for p in problems)
    assert any("counter-example matches" in p for p in problems)


def test_folder_and_domain_must_agree_and_ids_be_unique(tmp_path: Path) -> None:
    write(tmp_path, "network", [VALID])
    kb = load_knowledge([tmp_path], shipped=False)
    assert "domain database in folder network" in str(kb.problems[0])
    again = tmp_path / "again"
    write(again, "database", [VALID, VALID])
    kb = load_knowledge([again], shipped=True)
    assert any("duplicate id" in str(p) for p in kb.problems)


def test_unreadable_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "database"
    folder.mkdir()
    (folder / "broken.yaml").write_text("- id: [unclosed\n")
    (folder / "scalar.yaml").write_text("just a string\n")
    kb = load_knowledge([tmp_path], shipped=False)
    messages = sorted(str(p) for p in kb.problems)
    assert len(messages) == 2
    assert any("not readable YAML" in m for m in messages)
    assert any("expected a list of entries" in m for m in messages)


def test_keywords_and_regex_must_both_hold() -> None:
    entry = Entry.model_validate(VALID)
    assert entry.matches("ERROR thing 12 broke")
    assert not entry.matches("ERROR thing twelve broke")
    only_keywords = Entry.model_validate({**VALID, "match": {"keywords": ["Thing", "BROKE"]}})
    assert only_keywords.matches("the thing broke again")
    assert not only_keywords.matches("the thing is fine")


def test_shipped_knowledge_base_loads_cleanly() -> None:
    assert SHIPPED.problems == []
    assert check(SHIPPED) == []


def test_shipped_knowledge_base_size() -> None:
    counts = {d: len(SHIPPED.by_domain(d)) for d in Domain}
    assert sum(counts.values()) >= 250, counts
    assert min(counts.values()) >= 35, counts


@pytest.mark.parametrize("entry", list(SHIPPED), ids=lambda e: e.id)
def test_each_signature_on_its_own_examples(entry: Entry) -> None:
    for line in entry.examples:
        assert entry.matches(line), line
    for line in entry.counter_examples:
        assert not entry.matches(line), line


def test_kb_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    checked = run_cli("kb", "check", "--min-per-domain", "35")
    assert checked.code == 0, checked.stderr
    assert checked.stdout.strip().endswith("ok")
    listed = run_cli("kb", "list", "--json", "--domain", "database")
    import json

    rows = json.loads(listed.stdout)
    assert rows and all(r["domain"] == "database" for r in rows)
    shown = run_cli("kb", "show", rows[0]["id"])
    assert shown.code == 0 and "Root cause" in shown.stdout
    missing = run_cli("kb", "show", "no-such-entry")
    assert missing.code == 2 and missing.stderr.startswith("aiops: error:")


def test_templates_are_matched_once_each_most_severe_first(tmp_path: Path) -> None:
    from aiops_copilot.knowledge.matcher import match_templates
    from aiops_copilot.parsing.miner import TemplateMiner

    low = {
        **VALID,
        "id": "demo-thing-slow",
        "severity": "low",
        "title": "Slow",
        "match": {"keywords": ["thing"]},
        "examples": ["thing slow"],
        "counter_examples": [],
    }
    kb = load_knowledge([write(tmp_path, "database", [VALID, low])], shipped=False)
    miner = TemplateMiner()
    for i in range(30):
        miner.add(f"ERROR thing {i} broke")
    miner.add("thing slow today")
    miner.add("nothing to see")
    hits = match_templates(kb, miner.clusters)
    assert [(h.entry.id, h.count) for h in hits] == [
        ("demo-thing-broke", 30),
        ("demo-thing-slow", 1),
    ]
    assert len(hits[0].template_ids) == 1


def test_analyze_reports_known_signatures(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    entry = {
        **VALID,
        "id": "demo-pg-clients",
        "match": {"regex": "too many clients already"},
        "examples": ["FATAL:  sorry, too many clients already"],
        "counter_examples": [],
    }
    kb_dir = write(tmp_path / "kb", "database", [entry])
    examples = Path(__file__).resolve().parents[1] / "examples" / "postgres"
    result = run_cli("analyze", "--json", "--kb", str(kb_dir), str(examples))
    assert result.code == 1, result.stderr  # a high-severity incident was found
    hits = {h["id"]: h for h in json.loads(result.stdout)["summary"]["signatures"]}
    assert hits["demo-pg-clients"]["count"] == 19
    assert hits["demo-pg-clients"]["domain"] == "database"


def test_own_entry_replaces_a_shipped_one(tmp_path: Path) -> None:
    shipped = next(iter(SHIPPED))
    mine = shipped.model_dump(mode="json")
    mine["title"] = "Our own runbook for this"
    kb = load_knowledge([write(tmp_path, shipped.domain.value, [mine])])
    assert kb.problems == []
    entry = kb.get(shipped.id)
    assert entry is not None and entry.title == "Our own runbook for this"
    assert len(kb) == len(SHIPPED)
