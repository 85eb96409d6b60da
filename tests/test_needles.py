"""The needle test in front of the classifier's and the fixers' regexes, and its cache.

Skipping a search is only allowed when the search would have found nothing: these tests hold
the shortcut against ``re`` itself (every shipped pattern on every shipped example, mangled
beyond ASCII) and hold whole analyses with and without it to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.agents.base import fixers
from aiops_copilot.agents.classifier import shipped_model
from aiops_copilot.knowledge import cache as kb_cache
from aiops_copilot.knowledge import needles as needles_module
from aiops_copilot.knowledge.hypothesis_book import (
    SHIPPED_HYPOTHESES,
    DomainBook,
    compile_pattern,
    load_book,
    shipped_book,
)
from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.knowledge.needles import absent, fold, needles
from aiops_copilot.models import Domain
from aiops_copilot.report.incidents_json import incident_to_dict
from eval_harness import analyse_case, cases

KB = load_knowledge()
#: Characters that ``re.IGNORECASE`` matches against an ASCII letter although they are not ASCII.
SPECIALS = "\u0130\u0131\u017f\u212a"  # dotted I, dotless i, long s, Kelvin sign
SWAPS = {"i": "\u0130", "I": "\u0131", "s": "\u017f", "S": "\u017f"}


def _book_patterns() -> Iterator[str]:
    for domain in Domain:
        book = shipped_book(domain)
        for problem in book.problems:
            yield from problem.when.patterns
        for spec in book.hypotheses:
            yield from spec.applies_to.patterns
            yield from (c.pattern for c in (*spec.rule_in, *spec.rule_out) if c.pattern)


@cache
def patterns() -> list[re.Pattern[str]]:
    """Every regex the shortcut stands in front of, compiled as its users compile it (the
    knowledge base's own regexes: ``test_knowledge_index``)."""
    found = [compile_pattern(p) for p in _book_patterns()]
    for fixer in fixers().values():
        found += [compile_pattern(p) for p in (*fixer.keywords, *fixer.defer)]  # type: ignore[attr-defined]
    found += [rule.pattern for rule in shipped_model().keywords]
    return list({(p.pattern, p.flags): p for p in found}.values())


TEXTS = sorted({line for entry in KB for line in (*entry.examples, *entry.counter_examples)})


def test_fold_knows_every_character_ignorecase_matches_to_ascii() -> None:
    """``re`` itself says which characters beyond ASCII match an ASCII one case-insensitively;
    :func:`fold` must map each of them (and only ASCII capitals besides)."""
    everything = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    matching = set(re.findall(r"[\x00-\x7f]", everything, re.IGNORECASE))
    assert matching == set(SPECIALS)
    for char in matching:
        (letter,) = {
            c.lower() for c in map(chr, range(128)) if re.fullmatch(re.escape(c), char, re.I)
        }
        assert fold(char) == letter
    assert fold("\u212aelvin \u0130D x") == "kelvin id x"
    assert len(fold("\u00c4\u0130\u212a")) == 3, "one character for one"


def test_a_missing_needle_means_no_match_on_every_shipped_example() -> None:
    folded = [fold(text) for text in TEXTS]
    wrong = []
    for pattern in patterns():
        found = needles(pattern)
        wrong += [
            (pattern.pattern, text)
            for text, text_folded in zip(TEXTS, folded, strict=True)
            if absent(found, text_folded) and pattern.search(text) is not None
        ]
    assert wrong == []


def test_the_shortcut_rules_out_most_searches() -> None:
    """Not a timing: most pattern/text pairs are settled without a search (why it exists)."""
    pairs = [(p, t) for p in patterns() for t in TEXTS[::7]]
    skipped = sum(absent(needles(p), fold(t)) for p, t in pairs)
    assert skipped > 0.8 * len(pairs)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TEXTS),
    st.integers(min_value=0, max_value=400),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(SPECIALS), max_size=8),
    st.sampled_from([None, *"iIsSkK"]),
)
def test_the_shortcut_agrees_on_mangled_lines(
    text: str, position: int, insert: str, swap: str | None
) -> None:
    mangled = text[:position] + insert + text[position:]
    if swap is not None:  # a letter replaced by a character beyond ASCII that matches it
        mangled = mangled.replace(swap, SWAPS.get(swap, "\u212a"))
    for p in patterns():
        if absent(needles(p), fold(mangled)):
            assert p.search(mangled) is None, (p.pattern, mangled)


@pytest.mark.parametrize(
    "case",
    [c for c in cases() if c.parent.name != "clean"][::4],
    ids=lambda c: f"{c.parent.name}/{c.name}",
)
def test_diagnoses_are_the_same_without_the_shortcut(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_needles = [incident_to_dict(i) for i in analyse_case(case, KB).incidents]
    monkeypatch.setattr(needles_module._TABLE, "get", lambda key: ())
    without = [incident_to_dict(i) for i in analyse_case(case, KB).incidents]
    assert with_needles and with_needles == without


def test_needles_are_kept_between_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = needles_module._Table()
    monkeypatch.setattr(needles_module, "_TABLE", first)
    assert needles(r"connection (?:refused|timed out)") == ("connection ",)
    needles_module.save()
    (written,) = (tmp_path / "aiops").glob("needles-*.pickle")
    kept = written.read_bytes()
    written.unlink()
    needles_module.save()  # nothing new since: nothing written
    assert not written.exists()
    written.write_bytes(kept)  # the next run starts from what the first one kept
    second = needles_module._Table()
    monkeypatch.setattr(needles_module, "_TABLE", second)
    monkeypatch.setattr(needles_module, "required_literals", _refuse)
    assert needles(r"connection (?:refused|timed out)") == ("connection ",), "from the file"
    assert not second.grown


def test_a_broken_needle_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = needles_module._path()
    assert path is not None
    kb_cache.write(path, {("disk full", 0): [1, 2]})  # not the shape the table has
    monkeypatch.setattr(needles_module, "_TABLE", needles_module._Table())
    assert needles("disk full") == ("disk full",)
    path.write_bytes(b"\x80\x05not a pickle")
    monkeypatch.setattr(needles_module, "_TABLE", needles_module._Table())
    assert needles("disk full") == ("disk full",)


def _refuse(*_: object) -> tuple[str, ...]:
    raise AssertionError("worked out again")


def test_hypothesis_books_come_from_the_cache_as_loaded(tmp_path: Path) -> None:
    path = SHIPPED_HYPOTHESES / "network.yaml"
    built: list[int] = []

    def build():  # type: ignore[no-untyped-def]
        built.append(1)
        return load_book(path)

    name = "hypotheses_network"
    first = kb_cache.cached_object(name, [path], build, DomainBook, folder=tmp_path)
    second = kb_cache.cached_object(name, [path], build, DomainBook, folder=tmp_path)
    assert built == [1]
    assert second == first == shipped_book(Domain.NETWORK)
