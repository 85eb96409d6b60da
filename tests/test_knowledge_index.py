"""The entry index behind signature matching must pick exactly the entry a plain walk through
the entries in order picks: same entry, any text, any prefix of the order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.detect.signatures import best_entry
from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.knowledge.matcher import EntryIndex, first_match, index_of
from aiops_copilot.knowledge.schema import Entry

ENTRIES = load_knowledge().matching_order()
INDEX = EntryIndex(ENTRIES)
#: Characters beyond ASCII that match an ASCII letter under IGNORECASE (İ, ı, long s, Kelvin).
SPECIALS = "\u0130\u0131\u017f\u212a"
TEXTS = sorted({line for entry in ENTRIES for line in (*entry.examples, *entry.counter_examples)})


def walk(entries: list[Entry], text: str) -> Entry | None:
    """The first entry that recognises ``text``, tried one by one (what the index replaces)."""
    return next((e for e in entries if e.matches(text)), None)


def test_the_index_agrees_with_the_walk_on_every_example() -> None:
    assert [INDEX.first(t) for t in TEXTS] == [walk(ENTRIES, t) for t in TEXTS]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TEXTS),
    st.integers(min_value=0, max_value=400),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(SPECIALS), max_size=8),
    st.integers(min_value=0, max_value=len(ENTRIES)),
)
def test_the_index_agrees_on_mangled_lines_and_any_limit(
    text: str, position: int, insert: str, limit: int
) -> None:
    mangled = text[:position] + insert + text[position:]
    assert INDEX.first(mangled, limit) is walk(ENTRIES[:limit], mangled)
    assert INDEX.first(mangled) is walk(ENTRIES, mangled)


def test_a_letter_beyond_ascii_that_matches_case_insensitively_is_not_ruled_out() -> None:
    """The long s matches ``s`` under IGNORECASE: the index must still try the entry."""
    entry = next(
        e
        for e in ENTRIES
        if e.match.ignore_case and not e.match.keywords and "s" in "".join(e.match.literals)
    )
    example = next(x for x in entry.examples if "s" in x)
    long_s = example.replace("s", "\u017f")
    assert walk(ENTRIES, long_s) is not None
    assert INDEX.first(long_s) is walk(ENTRIES, long_s)


def test_indexes_are_reused_for_the_same_entries_in_the_same_order() -> None:
    assert index_of(ENTRIES) is index_of(list(ENTRIES))
    assert index_of(ENTRIES[::-1]) is not index_of(ENTRIES)
    assert index_of(INDEX) is INDEX
    assert first_match(ENTRIES[::-1], TEXTS[0]) is walk(ENTRIES[::-1], TEXTS[0])


def test_best_entry_with_the_index_is_the_most_severe() -> None:
    texts = TEXTS[:40]
    matched = [e for e in (walk(ENTRIES, t) for t in texts) if e is not None]
    expected = min(matched, key=ENTRIES.index) if matched else None
    assert best_entry(INDEX, texts) is expected
    assert best_entry(ENTRIES, texts) is expected
