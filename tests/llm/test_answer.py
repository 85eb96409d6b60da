"""The answer schema and the three checks an answer must pass (llm/answer.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aiops_copilot.llm.answer import Rejection, answer_schema, check_answer
from aiops_copilot.llm.evidence_pack import EvidencePack, build_pack
from aiops_copilot.models import Domain


@pytest.fixture(scope="module")
def packs(examples_analysis: tuple[Any, Any]) -> dict[str, EvidencePack]:
    """The database incident's pack with its strong KB match, and one without an anchor."""
    result, kb = examples_analysis
    db = next(i for i in result.incidents if i.classification.top.value == "database")
    return {
        "anchored": build_pack(copy.deepcopy(db), kb, budget_chars=20_000),
        "free": build_pack(copy.deepcopy(db), kb, budget_chars=20_000, kb_confidence=0.99),
    }


def good(**changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "domain": "database",
        "title": "A connection leak in checkout exhausts PostgreSQL's slots",
        "root_cause": "checkout opens a connection per request and never closes it.",
        "hypotheses": [
            {
                "cause": "Connection leak in checkout",
                "status": "supported",
                "because": "pool errors start with the FATAL lines",
                "evidence": ["E1", "K1"],
            },
            {
                "cause": "Long transactions",
                "status": "ruled_out",
                "because": "no lock waits",
                "evidence": ["T2"],
            },
        ],
        "remediation": ["Put PgBouncer in front"],
        "commands": ["psql -c 'select 1'"],
        "confidence": 0.8,
        "cited": ["D1", "E1", "K1"],
    }
    answer.update(changes)
    return answer


def test_schema_is_inline_strict_and_names_the_domains() -> None:
    schema = answer_schema()
    text = str(schema)
    assert "$ref" not in text and "$defs" not in text

    def objects(node: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for value in node:
                found += objects(value)
        return found

    for obj in objects(schema):
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert schema["properties"]["domain"]["enum"] == [d.value for d in Domain]


def test_a_valid_answer_passes(packs: dict[str, EvidencePack]) -> None:
    answer = check_answer(good(), packs["anchored"])
    assert answer.all_citations() == ["D1", "E1", "K1", "T2"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"domain": "database"}, "schema: title"),
        (good(domain="storage"), "schema: domain"),
        (good(confidence=1.5), "schema: confidence"),
        (good(cited=[]), "schema: cited"),
        (good(cited=["sample"]), "schema: cited.0"),
        (good(extra="x"), "schema: extra"),
    ],
)
def test_schema_failures_are_rejected(
    packs: dict[str, EvidencePack], raw: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(Rejection, match=fragment):
        check_answer(raw, packs["anchored"])


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"title": "postgresql-15-main"}, "the title needs at least 3 words"),
        ({"root_cause": "connection_leaks"}, "the root cause needs at least 8 words"),
        (
            {
                "hypotheses": [
                    {"cause": "leak", "status": "supported", "because": "x", "evidence": ["E1"]}
                ]
            },
            "names no cause",
        ),
    ],
)
def test_thin_answers_are_rejected(
    packs: dict[str, EvidencePack], changes: dict[str, Any], fragment: str
) -> None:
    # The first two are what a 270M model answered here (see docs/llm.md).
    with pytest.raises(Rejection, match=f"too thin: .*{fragment}"):
        check_answer(good(**changes), packs["anchored"])


def test_citing_evidence_the_pack_does_not_hold_is_rejected(
    packs: dict[str, EvidencePack],
) -> None:
    with pytest.raises(Rejection, match="not in the pack: E99"):
        check_answer(good(cited=["D1", "E99"]), packs["anchored"])
    hypotheses = good()["hypotheses"]
    hypotheses[1]["evidence"] = ["S7"]  # no similar incident in this pack
    with pytest.raises(Rejection, match="S7"):
        check_answer(good(hypotheses=hypotheses), packs["anchored"])


def test_another_domain_than_a_strong_kb_match_is_a_contradiction(
    packs: dict[str, EvidencePack],
) -> None:
    with pytest.raises(Rejection, match=r"contradicts .*postgresql-too-many-clients.*network"):
        check_answer(good(domain="network"), packs["anchored"])
    # Without a strong match the model may read the domain differently.
    assert check_answer(good(domain="network"), packs["free"]).domain == "network"


@pytest.mark.parametrize(
    "ruled_out",
    [
        {"cause": "Not a slot limit", "status": "ruled_out", "because": "x", "evidence": ["K1"]},
        {
            "cause": "postgresql-too-many-clients does not apply",
            "status": "ruled_out",
            "because": "x",
            "evidence": [],
        },
    ],
)
def test_ruling_out_the_strong_kb_match_is_a_contradiction(
    packs: dict[str, EvidencePack], ruled_out: dict[str, Any]
) -> None:
    hypotheses = [good()["hypotheses"][0], ruled_out]
    with pytest.raises(Rejection, match="rules out"):
        check_answer(good(hypotheses=hypotheses), packs["anchored"])
    # The same answer is fine where the match is not strong.
    assert check_answer(good(hypotheses=hypotheses), packs["free"])
