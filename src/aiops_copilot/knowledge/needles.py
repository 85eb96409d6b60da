"""A cheap "certainly no match" test in front of a regex search.

Most of the regexes the classifier and the fixers hold against an incident find nothing in it,
and a search costs far more than a substring test. A regex's *needles* are lower-cased ASCII
texts of which every match contains one (its required literals, see
:func:`~aiops_copilot.knowledge.schema.required_literals`); a text whose :func:`fold` holds
none of them cannot match, so the search (and, when nothing holds one, even compiling the
regex) can be skipped with the same answer.

Working needles out means parsing the regex, nearly what compiling it costs, for each of the
few hundred patterns a run holds against its incidents. The patterns are the same from run to
run, so the needles are kept in the user's cache (:mod:`aiops_copilot.knowledge.cache`), read
at the first question and written back by :func:`save` when a run met new patterns.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiops_copilot.knowledge import schema
from aiops_copilot.knowledge.schema import required_literals

Key = tuple[str, int]
#: The only flag that changes what is a literal (the others change what a literal matches,
#: which the lower-casing already allows for).
_SHAPING = re.VERBOSE


def needles(pattern: str | re.Pattern[str], flags: int = 0) -> tuple[str, ...]:
    """Lower-cased texts of which every match of ``pattern`` contains one (``()``: none known).

    ``flags`` are those a pattern given as text is compiled with (a compiled one says its own)."""
    if isinstance(pattern, re.Pattern):
        return _TABLE.get((pattern.pattern, pattern.flags & _SHAPING))
    return _TABLE.get((pattern, flags & _SHAPING))


class _Table:
    """The needles known so far, read from the cache the first time they are needed."""

    def __init__(self) -> None:
        self.known: dict[Key, tuple[str, ...]] | None = None
        self.grown = False

    def get(self, key: Key) -> tuple[str, ...]:
        known = self.known
        if known is None:
            known = self.known = _read()
        found = known.get(key)
        if found is None:
            found = known[key] = required_literals(*key)
            self.grown = True
        return found


_TABLE = _Table()


def _path() -> Path | None:
    from aiops_copilot.knowledge.cache import cache_path

    # What the needles depend on: the code that works them out (and Python's regex parser,
    # whose version is part of every cache name).
    return cache_path("needles", [Path(schema.__file__)])


def _read() -> dict[Key, tuple[str, ...]]:
    from aiops_copilot.knowledge.cache import read

    path = _path()
    known = (read(path, dict) if path is not None else None) or {}
    return known if all(_sound(k, v) for k, v in known.items()) else {}


def _sound(key: object, value: object) -> bool:
    """Whether a cached item has the shape the table's have (anything else: start afresh)."""
    return (
        isinstance(key, tuple)
        and isinstance(value, tuple)
        and all(isinstance(needle, str) for needle in value)
    )


def save() -> None:
    """Keep the needles worked out in this run for the next (best effort, and only when there
    are new ones: a run that met only known patterns writes nothing)."""
    from aiops_copilot.knowledge.cache import write

    if not _TABLE.grown or _TABLE.known is None:
        return
    _TABLE.grown = False
    path = _path()
    if path is not None:
        write(path, dict(_TABLE.known))


#: What a character becomes in :func:`fold`: ASCII capitals their small letter, and the four
#: characters beyond ASCII that ``re.IGNORECASE`` lets match an ASCII letter (``İ`` and
#: dotless ``ı`` match ``i``, the long ``ſ`` matches ``s``, the Kelvin sign matches ``k``;
#: a test derives the four from ``re`` itself). Every other character stays: beyond ASCII,
#: it cannot stand for a needle's character.
_FOLD = {
    **{code: code + 32 for code in range(ord("A"), ord("Z") + 1)},
    0x130: ord("i"),
    0x131: ord("i"),
    0x17F: ord("s"),
    0x212A: ord("k"),
}


def fold(text: str) -> str:
    """``text`` as the needle test reads it, one character for one: lower-cased ASCII, and the
    characters that match an ASCII letter under ``re.IGNORECASE`` as that letter.

    Why not ``str.lower``: beyond ASCII it changes lengths (``İ`` becomes two characters) and
    leaves the Kelvin sign, which a case-insensitive ``k`` matches, alone."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def absent(found: tuple[str, ...], folded: str | None) -> bool:
    """True when a text holds no match of a regex with these needles (``folded``: the text
    through :func:`fold`; None when unknown); False means it may."""
    if not found or folded is None:
        return False
    return not any(map(folded.__contains__, found))  # no generator: this runs very often
