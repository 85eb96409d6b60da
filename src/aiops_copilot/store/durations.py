"""``--since 24h``, ``--older-than 30d``, ``--since 2026-11-01``: a moment in the past."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "d": 86_400,
    "w": 7 * 86_400,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)
HELP = "a duration (90m, 24h, 7d, 2w) or a date (2026-11-01, 2026-11-01T08:00)"


def parse_duration(text: str) -> timedelta:
    """``24h`` -> 24 hours; ``m`` is minutes (months are not a fixed length)."""
    match = _DURATION.match(text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"expected {HELP}, not {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


def cutoff(text: str, now: datetime | None = None) -> datetime:
    """The moment ``text`` names: ``now`` minus a duration, or a date/time (UTC unless it
    says otherwise)."""
    now = now or datetime.now(UTC)
    if _DURATION.match(text):
        return now - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected {HELP}, not {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
