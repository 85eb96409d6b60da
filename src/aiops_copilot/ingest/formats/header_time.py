"""Timestamp shapes found at the start of log lines, and turning them into datetimes.

Each shape is one regex with named groups (``Y`` four-digit year, ``y`` two-digit year, ``m``
month, ``b`` month name, ``d`` day, ``H``/``M``/``S`` time, ``f`` fraction, ``z`` zone, ``e``
epoch seconds), so a match converts to a ``datetime`` by plain integer work: ``strptime`` costs
tens of microseconds a line, which at millions of lines is most of the parsing time.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from aiops_copilot.ingest.timeparse import (
    MONTHS,
    build,
    fraction_to_us,
    from_epoch,
    infer_year,
    zone,
)

_MONTH_NAMES: Final = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAY_NAMES: Final = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_HMS: Final = r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"

#: Tried in order at a position (most specific first); each must end at a token boundary.
TIMESTAMP_SHAPES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ]"
        + _HMS
        + r"(?:[.,](?P<f>\d{1,9}))?(?P<z>Z|[+-]\d{2}:?\d{2})?,?",
        r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})-(?P<H>\d{2})\.(?P<M>\d{2})\.(?P<S>\d{2})"
        r"\.(?P<f>\d{1,6})",
        r"(?P<Y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2}) " + _HMS + r"(?:[.,](?P<f>\d{1,6}))?",
        r"(?P<y>\d{2})/(?P<m>\d{2})/(?P<d>\d{2}) " + _HMS,
        r"(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})-(?P<H>\d{1,2}):(?P<M>\d{1,2}):(?P<S>\d{1,2})"
        r":(?P<f>\d{1,3})",
        r"(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2}) (?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})",
        r"(?P<m>\d{2})-(?P<d>\d{2}) " + _HMS + r"\.(?P<f>\d{3})",
        rf"\[(?:{_DAY_NAMES}) (?P<b>{_MONTH_NAMES}) +(?P<d>\d{{1,2}}) "
        + _HMS
        + r"(?:\.(?P<f>\d+))? (?P<Y>\d{4})\]",
        r"\[(?P<m>\d{2})\.(?P<d>\d{2}) " + _HMS + r"\]",
        rf"(?P<b>{_MONTH_NAMES}) +(?P<d>\d{{1,2}}) " + _HMS,
        r"(?P<Y>\d{4})\.(?P<m>\d{2})\.(?P<d>\d{2})",
        r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})",
        r"(?P<e>1\d{9}(?:\.\d+)?)",
        _HMS + r"(?:[.,](?P<f>\d{1,6}))?",
    )
)


def match_timestamp(line: str, pos: int) -> re.Match[str] | None:
    """The first timestamp shape matching at ``pos`` and ending at a token boundary."""
    for shape in TIMESTAMP_SHAPES:
        m = shape.match(line, pos)
        if m is not None:
            end = m.end()
            if end >= len(line) or line[end].isspace() or line[end] in "|,":
                return m
    return None


def to_datetime(m: re.Match[str]) -> datetime | None:
    """A timezone-aware datetime (UTC when the log names no zone), or None for a time of day
    alone (it cannot be placed on a calendar) or impossible values."""
    g = m.groupdict()
    if g.get("e"):
        return from_epoch(float(g["e"]))
    if g.get("d") is None:
        return None
    month = int(g["m"]) if g.get("m") else MONTHS[g["b"].lower()]
    day = int(g["d"])
    if g.get("Y"):
        year = int(g["Y"])
    elif g.get("y"):
        year = 2000 + int(g["y"])
    else:
        year = infer_year(month, day)
    if g.get("H") is None:
        return build(year, month, day)
    return build(
        year,
        month,
        day,
        int(g["H"]),
        int(g["M"]),
        int(g["S"]),
        fraction_to_us(g.get("f")),
        zone(g.get("z")),
    )


def parse_timestamp(text: str) -> datetime | None:
    """Best-effort datetime from a header timestamp's text."""
    stripped = text.rstrip(",")
    for shape in TIMESTAMP_SHAPES:
        m = shape.fullmatch(stripped)
        if m is not None:
            return to_datetime(m)
    return None
