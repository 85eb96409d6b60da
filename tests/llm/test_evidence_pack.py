"""The evidence pack and the prompts built from it, on incidents the real pipeline found."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

import pytest

from aiops_copilot.llm.evidence_pack import EvidencePack, _clip, build_pack
from aiops_copilot.llm.prompting import PromptBook
from aiops_copilot.models import Domain, Incident, LineRef, RunbookPassage, SimilarIncident
from llm.llm_support import EXAMPLES

BIG = 100_000


@pytest.fixture(scope="module")
def found(examples_analysis: tuple[Any, Any]) -> tuple[list[Incident], Any]:
    result, kb = examples_analysis
    return result.incidents, kb


def incident(found: tuple[list[Incident], Any], domain: str) -> Incident:
    incidents, _ = found
    chosen = next(i for i in incidents if i.classification and i.classification.top == domain)
    return copy.deepcopy(chosen)


def test_items_have_unique_ids_and_labels(found: tuple[list[Incident], Any]) -> None:
    incidents, kb = found
    for inc in incidents:
        pack = build_pack(inc, kb, budget_chars=BIG)
        ids = [item.id for item in pack.items]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"[A-Z][0-9]{1,3}", i) for i in ids)
        assert {"D1", "K1", "T1", "E1"} <= set(ids)
        assert all(item.line.startswith(f"[{item.id}] ") for item in pack.items)
        # Lines are cited as file:line, and the label points to the full location.
        first = pack.section("lines")[0]
        assert re.search(r"\.log(\.\d)?:\d+", first.text)
        assert first.label.startswith(str(EXAMPLES))


def test_strong_knowledge_base_match_is_an_anchor(found: tuple[list[Incident], Any]) -> None:
    _, kb = found
    db = incident(found, "database")
    pack = build_pack(db, kb, budget_chars=BIG, kb_confidence=0.8)
    assert pack.anchor is not None
    assert pack.anchor.item_id == "K1"
    assert pack.anchor.entry_id == "postgresql-too-many-clients"
    assert pack.anchor.domain == "database"
    assert "HIGH CONFIDENCE" in pack.section("knowledge")[0].text
    # The same match under a stricter threshold is only evidence.
    strict = build_pack(db, kb, budget_chars=BIG, kb_confidence=0.95)
    assert strict.anchor is None
    assert "HIGH CONFIDENCE" not in strict.text()
    # A medium signature (0.75) is not strong enough by default.
    ssh = incident(found, "security")
    assert build_pack(ssh, kb, budget_chars=BIG).anchor is None


def with_memory(inc: Incident) -> Incident:
    assert inc.diagnosis is not None
    inc.diagnosis.similar = [
        SimilarIncident(f"fp{n}", f"past incident {n}", 0.8, "database", "a leak", "pool fixed")
        for n in (1, 2)
    ]
    inc.diagnosis.runbooks = [
        RunbookPassage(f"Runbook {n}", "Restart the pool. " * 20, "/srv/rb.md", 0.7, line=n)
        for n in (1, 2)
    ]
    return inc


def test_budget_drops_the_least_important_items_first(found: tuple[list[Incident], Any]) -> None:
    _, kb = found
    db = with_memory(incident(found, "database"))
    full = build_pack(db, kb, budget_chars=BIG)
    assert {"S1", "S2", "M1", "M2"} <= full.ids
    lowest = min(full.items, key=lambda item: item.priority)
    tighter = build_pack(db, kb, budget_chars=full.chars - 5)
    assert tighter.dropped == 1
    assert full.ids - tighter.ids == {lowest.id}
    assert lowest.section in ("runbooks", "similar", "hypotheses")
    assert tighter.chars <= tighter.budget_chars
    # Halving the budget drops memory before the incident's own first lines.
    half = build_pack(db, kb, budget_chars=full.chars // 2)
    assert half.chars <= half.budget_chars
    assert "M2" not in half.ids and "E1" in half.ids and "E2" in half.ids


def test_tiny_budget_keeps_the_essentials_shortened(found: tuple[list[Incident], Any]) -> None:
    _, kb = found
    db = incident(found, "database")
    pack = build_pack(db, kb, budget_chars=300)
    assert pack.ids == {"D1", "K1", "T1", "E1"}
    assert all(len(item.text) <= 400 for item in pack.items)
    assert pack.anchor is not None  # the anchor survives: K1 is essential


def test_lines_before_the_first_error_are_context(found: tuple[list[Incident], Any]) -> None:
    _, kb = found
    db = incident(found, "database")
    assert db.first_seen is not None
    deploy = LineRef(
        "deploy.log", 7, 7, "deployed checkout 1.4.3", db.first_seen - timedelta(seconds=40)
    )
    db.lines.append(deploy)
    pack = build_pack(db, kb, budget_chars=BIG)
    context = pack.section("context")
    assert context and context[-1].text.startswith("before the first error: deploy.log:7")
    assert context[-1].label == "deploy.log:7"
    assert all(item.id.startswith("C") for item in context)


def test_identical_lines_are_shown_once(found: tuple[list[Incident], Any]) -> None:
    _, kb = found
    db = incident(found, "database")
    texts = [item.text.split(" ", 1)[1] for item in build_pack(db, kb, budget_chars=BIG).items]
    lines = [t for t in texts if "too many clients" in t and "FATAL" in t]
    assert len(lines) == len(set(lines))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("keep AKIAQ3PLANTED7EXAMPL tail", 12, "keep…"),
        ("AKIAQ3PLANTED7EXAMPL", 8, "…"),
        ("cut upstream AKIAQ3PL… here", 100, "cut upstream … here"),
        ("many   spaces\nand lines", 100, "many spaces and lines"),
    ],
)
def test_clip_never_ends_in_part_of_a_word(text: str, limit: int, expected: str) -> None:
    assert _clip(text, limit) == expected


def test_every_domain_has_its_prompt(found: tuple[list[Incident], Any]) -> None:
    incidents, kb = found
    book = PromptBook()
    base = build_pack(incidents[0], kb, budget_chars=BIG)
    seen: set[str] = set()
    for domain in Domain:
        pack = EvidencePack(
            incident_id=base.incident_id,
            domain=domain.value,
            header=base.header,
            items=base.items,
            anchor=base.anchor,
            budget_chars=base.budget_chars,
        )
        text = book.incident(pack)
        assert f"What to look for ({domain.value}):" in text
        assert all(item.line in text for item in pack.items)
        guidance = text.split(f"What to look for ({domain.value}):", 1)[1]
        assert guidance.strip() and guidance not in seen  # each domain says its own thing
        seen.add(guidance)
    system = book.system()
    assert "Cite only ids" in system and "<SECRET_n>" in system
    assert not re.search(r"<[A-Z]+_[0-9]+>", system)  # it would be reserved by the redactor
    retry = book.retry("cites evidence that is not in the pack: E99", base)
    assert "E99" in retry and "D1" in retry
