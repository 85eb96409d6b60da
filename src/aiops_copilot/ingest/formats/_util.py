"""Small helpers shared by the format modules (private to the package)."""

from __future__ import annotations

from aiops_copilot.models import Level, parse_level


def strip_eol(line: str) -> str:
    """Drop the line terminator (``\\n``, ``\\r\\n``): readers may or may not have removed it."""
    return line.rstrip("\r\n")


def to_int(text: str | None) -> int | None:
    """``int`` for short digit strings only: huge numbers are not pids and ``int()`` of more than
    4300 digits raises, which a parser must never do."""
    if text is None or not text or len(text) > 18:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def level_of(word: str | None) -> Level:
    """:func:`parse_level` plus the spellings specific formats use that the shared table lacks
    (Apache ``trace1``..``trace8``, MySQL ``System``, logcat ``A`` for assert)."""
    if not word:
        return Level.UNKNOWN
    cached = _CACHE.get(word)
    if cached is not None:
        return cached
    level = _resolve(word)
    if len(_CACHE) < 4096:  # level words are few; the bound only guards against junk input
        _CACHE[word] = level
    return level


_CACHE: dict[str, Level] = {}


def _resolve(word: str) -> Level:
    level = parse_level(word)
    if level is not Level.UNKNOWN:
        return level
    lowered = word.lower()
    if lowered.startswith("trace"):
        return Level.TRACE
    return _EXTRA.get(lowered, Level.UNKNOWN)


_EXTRA: dict[str, Level] = {
    "system": Level.NOTICE,
    "a": Level.CRITICAL,
    "assert": Level.CRITICAL,
    "warnung": Level.WARNING,
    "notset": Level.UNKNOWN,
}
