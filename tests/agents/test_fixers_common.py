"""What every fixer promises, whatever its domain: registration, the protocol, data that loads,
diagnoses with sane bounds, no exception on odd input, and evidence from linked incidents."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from fixer_helpers import context, incident_from_lines, kb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops_copilot.agents.base import Fixer, FixerContext, fixers
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence
from aiops_copilot.agents.fixers.prose import format_value, render
from aiops_copilot.knowledge.hypothesis_book import (
    SHIPPED_HYPOTHESES,
    DomainBook,
    condition_holds,
    load_book,
    shipped_book,
)
from aiops_copilot.models import (
    Domain,
    HypothesisStatus,
    Incident,
    LineRef,
    Severity,
    TemplateRef,
)

DOMAINS = list(Domain)
_NAME = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def test_one_fixer_per_domain_registered_with_its_name() -> None:
    agents = fixers()
    assert set(agents) == set(Domain)
    for domain, agent in agents.items():
        assert isinstance(agent, Fixer)
        assert agent.domain == domain
        assert agent.name == f"{domain.value}-fixer"


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.value)
def test_hypotheses_file_loads_with_six_to_fifteen_hypotheses(domain: Domain) -> None:
    book = shipped_book(domain)
    assert book.domain == domain
    assert 6 <= len(book.hypotheses) <= 20
    assert book.problems, "every domain names the problems it recognises"


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.value)
def test_hypotheses_reference_real_knowledge_base_entries(domain: Domain) -> None:
    book = shipped_book(domain)
    known = set(kb().entries)
    referenced = {e for p in book.problems for e in p.when.entries} | {
        e for h in book.hypotheses for e in h.applies_to.entries
    }
    # A few referenced entries may be added to the KB later; most must exist today.
    missing = referenced - known
    assert len(missing) <= max(2, len(referenced) // 5), sorted(missing)


def test_hypotheses_are_packaged_next_to_the_code() -> None:
    files = sorted(p.name for p in SHIPPED_HYPOTHESES.glob("*.yaml"))
    assert files == sorted(f"{d.value}.yaml" for d in Domain)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"domain": "database", "hypotheses": []}, "at least 1"),
        (
            {
                "domain": "database",
                "hypotheses": [{"id": "x", "cause": "c", "rule_in": [{"pattern": "("}]}],
            },
            "regex does not compile",
        ),
        (
            {
                "domain": "database",
                "hypotheses": [{"id": "x", "cause": "c", "rule_in": [{"fact": "a b"}]}],
            },
            "not a fact condition",
        ),
        (
            {
                "domain": "database",
                "hypotheses": [{"id": "x", "cause": "c", "applies_to": {"problems": ["nope"]}}],
            },
            "unknown problems",
        ),
        (
            {"domain": "database", "hypotheses": [{"id": "x", "cause": "c", "extra": 1}]},
            "Extra inputs",
        ),
    ],
)
def test_broken_hypothesis_files_are_rejected_with_the_reason(
    tmp_path, document: dict[str, object], message: str
) -> None:  # type: ignore[no-untyped-def]
    import yaml

    path = tmp_path / "database.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ValueError, match=message):
        load_book(path)


def test_a_valid_book_validates() -> None:
    book = DomainBook.model_validate(
        {
            "domain": "network",
            "problems": [{"id": "p", "when": {"patterns": ["x"]}, "title": "t", "headline": "h"}],
            "hypotheses": [
                {
                    "id": "h",
                    "cause": "c",
                    "commands": ["plain", {"text": "only redis", "when": ["engine=redis"]}],
                }
            ],
        }
    )
    steps = book.hypotheses[0].commands
    assert [s.applies({"engine": "redis"}) for s in steps] == [True, True]
    assert [s.applies({"engine": "mysql"}) for s in steps] == [True, False]


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        ("port", {"port": "5432"}, True),
        ("port", {}, False),
        ("!port", {}, True),
        ("!port", {"port": 1}, False),
        ("engine=redis|mysql", {"engine": "MySQL"}, True),
        ("engine=redis", {"engine": "postgresql"}, False),
        ("engine!=redis", {"engine": "postgresql"}, True),
        ("engine!=redis", {}, True),
        ("count>=10", {"count": 10}, True),
        ("count>=10", {"count": "9"}, False),
        ("count<5", {"count": 3}, True),
        ("count<5", {}, False),
        ("!count>=10", {}, True),
        ("volatile=0", {"volatile": "0"}, True),
        ("users=bob", {"users": ["alice", "bob"]}, True),
        ("flag", {"flag": False}, False),
    ],
)
def test_fact_conditions(condition: str, facts: dict[str, object], expected: bool) -> None:
    assert condition_holds(condition, facts) is expected


@pytest.mark.parametrize(
    ("text", "facts", "expected"),
    [
        ("port {port}", {"port": 80}, "port 80"),
        ("ss -ltn[[ 'sport = :{port}']]", {}, "ss -ltn"),
        ("ss -ltn[[ 'sport = :{port}']]", {"port": 80}, "ss -ltn 'sport = :80'"),
        ("kill {pid}", {}, "kill <pid>"),
        ("users {users}", {"users": ["a", "b"]}, "users a, b"),
        ("many {x}", {"x": list("abcdefg")}, "many a, b, c, d, e and 2 more"),
        ("[[a {x}]][[ b {y}]]", {"y": 2}, "b 2"),
        ("rate {r}", {"r": 12.345}, "rate 12.3"),
    ],
)
def test_render_fills_facts_and_drops_unknown_segments(
    text: str, facts: dict[str, object], expected: str
) -> None:
    assert render(text, facts) == expected


def test_render_without_placeholders_leaves_names_out() -> None:
    assert render("held by {pid} now", {}, placeholder=False) == "held by now"
    assert format_value(3.0) == "3"


def test_evidence_counts_lines_once_through_their_templates() -> None:
    incident = incident_from_lines(["GET /a HTTP/1.1 502", "GET /b HTTP/1.1 504"], counts=[40, 2])
    ev = Evidence(incident)
    assert ev.count(r"HTTP/1.1 50\d") == 42
    assert ev.tally(r"HTTP/1.1 (50\d)") == {"502": 40, "504": 2}
    assert ev.first(r"GET (/\w)") == "/a"
    assert ev.refs(r"504")[0].line_no == 2
    assert ev.count(r"nothing") == 0 and ev.first(r"(nothing)") is None


def _empty_incident() -> Incident:
    return Incident(
        id="inc-empty",
        fingerprint="fp",
        title="",
        severity=Severity.LOW,
        score=0.0,
        signals=[],
        templates=[],
        count=0,
        first_seen=None,
        last_seen=None,
    )


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.value)
def test_empty_incident_gets_a_weak_diagnosis(domain: Domain) -> None:
    agent = fixers()[domain]
    assert agent.can_handle(_empty_incident()) == 0.0
    diagnosis = agent.diagnose(_empty_incident(), context())
    assert diagnosis.agent == agent.name
    assert diagnosis.confidence <= 0.3
    assert diagnosis.root_cause


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.value)
def test_unknown_error_without_kb_hit_is_described_from_the_evidence(domain: Domain) -> None:
    lines = ["frobnicator stage 3 failed: quux overflow in widget pipeline"] * 3
    incident = incident_from_lines(lines, counts=[5, 5, 5], entry_ids=[])
    diagnosis = fixers()[domain].diagnose(incident, context())
    assert "frobnicator stage 3 failed" in diagnosis.root_cause
    assert diagnosis.confidence < 0.5
    assert diagnosis.evidence and diagnosis.evidence[0].source == "app.log"


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.value)
def test_diagnosis_invariants(domain: Domain) -> None:
    lines = [
        "connect() failed (111: Connection refused) while connecting to upstream",
        "FATAL:  sorry, too many clients already",
        "Failed password for root from 203.0.113.7 port 22 ssh2",
        'open() "/var/www/x" failed (24: Too many open files)',
        "java.lang.NullPointerException: boom\n\tat com.acme.Foo.bar(Foo.java:12)",
        "status=StatusCode.UNAVAILABLE details='x'",
    ] * 3
    incident = incident_from_lines(lines)
    diagnosis = fixers()[domain].diagnose(incident, context())
    assert 0.0 <= diagnosis.confidence <= 1.0
    assert len(diagnosis.evidence) <= 10
    assert len(set(diagnosis.evidence)) == len(diagnosis.evidence)
    order = {
        HypothesisStatus.SUPPORTED: 0,
        HypothesisStatus.POSSIBLE: 1,
        HypothesisStatus.RULED_OUT: 2,
    }
    ranks = [order[h.status] for h in diagnosis.hypotheses]
    assert ranks == sorted(ranks)
    assert all(h.because for h in diagnosis.hypotheses)
    json.dumps(diagnosis.facts)
    text = " ".join(
        [diagnosis.title, diagnosis.root_cause, *(h.cause for h in diagnosis.hypotheses)]
    )
    assert not _NAME.search(text), "an unfilled {fact} leaked into prose"
    assert "[[" not in text and "]]" not in text


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), max_size=300
)
_WORDS = st.sampled_from(
    [
        "Connection refused",
        "too many clients",
        "deadlock detected",
        "Failed password for root from 1.2.3.4",
        "No space left on device",
        "Traceback (most recent call last):",
        "KeyError: 'x'",
        "StatusCode.DEADLINE_EXCEEDED",
        "HTTP/1.1 503",
        "[[{port}]]",
        "{",
        "\x00",
        "Process 1 waits for ShareLock on transaction 2; blocked by process 3.",
    ]
)


@st.composite
def odd_incidents(draw: st.DrawFn) -> Incident:
    texts = draw(
        st.lists(st.one_of(_TEXT, _WORDS, st.builds("".join, st.lists(_WORDS))), max_size=8)
    )
    start = draw(st.none() | st.datetimes(timezones=st.just(UTC)))
    end = None if start is None else start + timedelta(seconds=draw(st.integers(0, 10**6)))
    return Incident(
        id=draw(st.text(max_size=5)),
        fingerprint="fp",
        title=draw(_TEXT),
        severity=Severity.MEDIUM,
        score=0.5,
        signals=[],
        templates=[
            TemplateRef(f"t{i}", t, draw(st.integers(-3, 10**6)), t) for i, t in enumerate(texts)
        ],
        count=len(texts),
        first_seen=start,
        last_seen=end,
        services=draw(st.lists(_TEXT, max_size=2)),
        formats=draw(
            st.lists(st.sampled_from(["postgresql", "nginx_error", "json", "?"]), max_size=2)
        ),
        lines=[LineRef("f.log", i, i, t, start) for i, t in enumerate(texts)],
        entities=draw(
            st.dictionaries(st.sampled_from(["ip:1.2.3.4", "user:x", "odd"]), st.integers(-5, 99))
        ),
        entry_ids=draw(
            st.lists(st.sampled_from([*list(kb().entries)[:50], "no-such-entry"]), max_size=3)
        ),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incident=odd_incidents())
def test_no_fixer_raises_on_odd_input(incident: Incident) -> None:
    ctx = FixerContext(kb=kb(), incidents={"x": incident})
    for agent in fixers().values():
        assert isinstance(agent, SpecialistFixer)
        score = agent.can_handle(incident)
        assert 0.0 <= score <= 1.0
        # The unguarded path: the fallback must not be what keeps odd input from crashing.
        diagnosis = agent._diagnose(incident, ctx)
        assert diagnosis.root_cause
        json.dumps(asdict(diagnosis), default=str)


def _at(minute: int) -> datetime:
    return datetime(2026, 11, 23, 23, minute, tzinfo=UTC)


def _incident(ident: str, lines: list[str], minute: int, entry_ids: list[str]) -> Incident:
    base = incident_from_lines(lines, source="redis.log", entry_ids=entry_ids)
    base.id = ident
    base.first_seen, base.last_seen = _at(minute), _at(minute + 1)
    base.lines = [LineRef(r.source, r.line_no, r.end_line, r.text, _at(minute)) for r in base.lines]
    return base


def test_a_symptom_incident_borrows_the_cause_from_a_neighbour() -> None:
    """MISCONF alone says writes stopped; the RDB permission error next door says why."""
    symptom = _incident(
        "INC-symptom",
        [
            "MISCONF Redis is configured to save RDB "
            "snapshots, but it's currently unable to persist "
            "to disk. Commands that may modify the data set are disabled"
        ],
        10,
        ["redis-misconf-rdb-stop-writes"],
    )
    cause = _incident(
        "INC-cause",
        [
            "Failed opening the temp RDB file temp-812.rdb (in server root dir /var/lib/redis) "
            "for saving: Permission denied",
            "Background saving error",
        ],
        9,
        ["redis-background-save-failed"],
    )
    far = _incident("INC-far", ["No space left on device"], 50, ["disk-no-space-left-on-device"])
    ctx = FixerContext(kb=kb(), incidents={i.id: i for i in (symptom, cause, far)})
    diagnosis = fixers()[Domain.INFRASTRUCTURE].diagnose(symptom, ctx)
    assert diagnosis.facts["problem"] == "permission-denied"
    assert diagnosis.facts["linked_incidents"] == ["INC-cause"]
    assert "/var/lib/redis" in diagnosis.root_cause
    assert "MISCONF" in diagnosis.root_cause
    alone = fixers()[Domain.INFRASTRUCTURE].diagnose(symptom, context())
    assert "linked_incidents" not in alone.facts


def test_an_explicit_cause_link_is_always_used() -> None:
    symptom = _incident("INC-502", ["GET /api HTTP/1.1 502"] * 2, 10, [])
    cause = _incident(
        "INC-refused",
        [
            "connect() failed (111: Connection refused) while connecting to upstream, "
            'upstream: "http://10.0.0.5:8080/api"'
        ],
        10,
        ["nginx-upstream-connection-refused"],
    )
    symptom.caused_by = cause.id
    ctx = FixerContext(kb=kb(), incidents={i.id: i for i in (symptom, cause)})
    diagnosis = fixers()[Domain.NETWORK].diagnose(symptom, ctx)
    assert diagnosis.facts["caused_by"] == "INC-refused"
    assert diagnosis.facts["peer"] == "10.0.0.5:8080"
    assert diagnosis.facts["problem"] == "connection-refused"


def test_a_fixer_that_breaks_falls_back_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = fixers()[Domain.DATABASE]
    assert isinstance(agent, SpecialistFixer)

    def boom(ev: Evidence) -> dict[str, object]:
        raise RuntimeError("extractor bug")

    monkeypatch.setattr(agent, "extract", boom)
    incident = incident_from_lines(["FATAL:  sorry, too many clients already"])
    diagnosis = agent.diagnose(incident, context())
    assert diagnosis.confidence == 0.1
    assert diagnosis.title == kb().entries["postgresql-too-many-clients"].title
    assert agent.can_handle(incident) >= 0.0


def test_shipped_books_are_cached_and_known_names_render() -> None:
    assert shipped_book(Domain.NETWORK) is shipped_book(Domain.NETWORK)
