"""The knowledge base's fast paths: the per-user cache of the parsed entries and the
required-literal shortcut in front of each regex. Both must be invisible in the answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.knowledge import cache as kb_cache
from aiops_copilot.knowledge.loader import SHIPPED, _load, _yaml_files, load_knowledge
from aiops_copilot.knowledge.schema import Match, required_literals

KB = load_knowledge()
ENTRIES = list(KB)
TEXTS = sorted({line for entry in ENTRIES for line in (*entry.examples, *entry.counter_examples)})


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        (r"too many connections \(\d+\)", ("too many connections (",)),
        (r"[Dd]isk quota exceeded|EDQUOT\b", ("isk quota exceeded", "edquot")),
        (r"(?:SSL )?handshake failed", ("handshake failed",)),
        (r"ab|cdef", ()),  # one branch offers nothing long enough: no shortcut
        (r"(?:GET|POST) /api", (" /api",)),
        (r"x(?:connection refused)+y", ("connection refused",)),
        (r"(?:connection refused)?ok", ()),
        (r"\d+ms", ()),
        (r"Timeout waiting for (?:lock|latch)", ("timeout waiting for l",)),  # common prefix
        (r"(unclosed", ()),  # does not parse: the regex alone decides
    ],
)
def test_required_literals(regex: str, expected: tuple[str, ...]) -> None:
    assert required_literals(regex) == expected


def reference(match: Match, text: str) -> bool:
    """What ``matches`` answered before the shortcut: keywords, then the regex."""
    for keyword in match.keywords:
        pattern = r"(?<!\w)" + re.escape(keyword) + r"(?!\w)"
        if re.search(pattern, text, re.IGNORECASE) is None:
            return False
    if match.regex is None:
        return True
    flags = re.MULTILINE | (re.IGNORECASE if match.ignore_case else 0)
    return re.search(match.regex, text, flags) is not None


def test_the_shortcut_agrees_with_the_regexes_on_every_example_of_every_entry() -> None:
    """Every shipped entry against every example and counter-example line of the whole
    knowledge base: the shortcut may only skip regexes that would not have matched."""
    disagreements = [
        (entry.id, text)
        for entry in ENTRIES
        for text in TEXTS
        if entry.matches(text) != reference(entry.match, text)
    ]
    assert disagreements == []


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TEXTS),
    st.integers(min_value=0, max_value=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(ENTRIES),
)
def test_the_shortcut_agrees_on_mangled_lines(
    text: str, position: int, insert: str, entry: object
) -> None:
    mangled = text[:position] + insert + text[position:]
    assert entry.matches(mangled) == reference(entry.match, mangled)  # type: ignore[attr-defined]


def test_the_cache_is_written_then_read(tmp_path: Path) -> None:
    files = list(_yaml_files(SHIPPED))
    built: list[int] = []

    def build():  # type: ignore[no-untyped-def]
        built.append(1)
        return _load((), shipped=True)

    first = kb_cache.cached(files, build, folder=tmp_path)
    assert built == [1] and len(list(tmp_path.glob("knowledge-*.pickle"))) == 1
    second = kb_cache.cached(files, build, folder=tmp_path)
    assert built == [1], "a current cache is read, not rebuilt"
    assert list(second.entries) == list(first.entries)
    assert [e.match.literals for e in second] == [e.match.literals for e in first]
    line = "FATAL:  sorry, too many clients already"
    assert [e.id for e in second if e.matches(line)] == [e.id for e in first if e.matches(line)]


def test_a_corrupt_cache_is_rebuilt_quietly(tmp_path: Path) -> None:
    files = list(_yaml_files(SHIPPED))
    kb_cache.cached(files, lambda: _load((), shipped=True), folder=tmp_path)
    (cached_file,) = tmp_path.glob("knowledge-*.pickle")
    cached_file.write_bytes(b"\x80\x05not a pickle")
    kb = kb_cache.cached(files, lambda: _load((), shipped=True), folder=tmp_path)
    assert len(kb) == len(KB)
    assert cached_file.read_bytes()[:2] != b"\x80\x05n", "rewritten"


def test_a_changed_file_changes_the_cache_name(tmp_path: Path) -> None:
    data = tmp_path / "kb.yaml"
    data.write_text("[]\n", encoding="utf-8")
    before = kb_cache.digest([data])
    data.write_text("[]\n# edited\n", encoding="utf-8")
    assert kb_cache.digest([data]) != before


def test_an_unwritable_cache_folder_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    files = list(_yaml_files(SHIPPED))
    kb = kb_cache.cached(files, lambda: _load((), shipped=True), folder=blocker / "aiops")
    assert len(kb) == len(KB)
