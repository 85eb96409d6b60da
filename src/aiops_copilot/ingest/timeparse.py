"""Timestamp helpers shared by the format parsers.

Every parser needs the same few conversions (ISO-8601 with any fraction length, epoch numbers of
unknown unit, month abbreviations, year-less syslog dates). They live here so each format module
stays a thin regex plus field mapping, and so the "never raise" rule is enforced in one place:
every helper returns ``None`` instead of propagating ``ValueError``/``OverflowError``.

Timestamps without a zone are taken as UTC. That is a guess (most servers log local time), but a
fixed, documented guess keeps records from different sources comparable and deterministic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

MONTHS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r" ?(Z|z|UTC|GMT|[+-]\d\d(?::?\d\d)?)?"
)

_OFFSETS: dict[str, timezone] = {}


def zone(text: str | None) -> timezone | None:
    """``Z``/``UTC``/``+0100``/``-05:00``/``+01`` → a fixed-offset zone (``None`` if unreadable)."""
    if not text or text in ("Z", "z", "UTC", "GMT"):
        return UTC
    cached = _OFFSETS.get(text)
    if cached is not None:
        return cached
    if text[0] not in "+-" or len(text) < 3:
        return None
    digits = text[1:].replace(":", "")
    if not digits.isdigit() or len(digits) not in (2, 4):
        return None
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) == 4 else 0)
    if minutes >= 24 * 60:
        return None
    tz = timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
    if len(_OFFSETS) < 256:  # a handful of zones in practice; bounded anyway
        _OFFSETS[text] = tz
    return tz


def fraction_to_us(fraction: str | None) -> int:
    """Fractional-second digits of any length (``"123"``, ``"123456789"``) → microseconds."""
    if not fraction:
        return 0
    return int((fraction + "000000")[:6])


def build(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
    tz: timezone | None = UTC,
) -> datetime | None:
    """A timezone-aware datetime, or ``None`` for impossible dates (Feb 30, hour 25, ...)."""
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), microsecond, tz or UTC)
    except (ValueError, OverflowError):
        return None


def parse_iso(text: str) -> datetime | None:
    """Parse an ISO-8601-like timestamp at the start of ``text`` (``T`` or space, ``,`` or ``.``).

    Accepts nanosecond fractions (container runtimes write them) by truncating to microseconds.
    Consecutive log lines mostly share their second, so the whole-second part is cached and
    only the fraction is applied per line: this function runs once per record.
    """
    m = _ISO.match(text)
    if m is None:
        return None
    frac = m.group(7)
    if frac is None:
        return _whole_second(m.group(0))
    cut = m.start(7) - 1
    base = _whole_second(text[:cut] + text[m.end(7) : m.end()])
    if base is None:
        return None
    return base.replace(microsecond=fraction_to_us(frac))


@lru_cache(maxsize=512)
def _whole_second(text: str) -> datetime | None:
    m = _ISO.match(text)
    if m is None:  # pragma: no cover - text was produced from a match
        return None
    y, mo, d, h, mi, s, _, off = m.groups()
    tz = zone(off)
    if tz is None:
        return None
    return build(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), 0, tz)


def from_epoch(value: float) -> datetime | None:
    """Epoch number of unknown unit → UTC datetime.

    The unit is guessed from the magnitude (seconds until year ~5000, then millis, micros, nanos),
    which is what JSON loggers actually emit: pino/bunyan millis, journald micros, Go nanos.
    """
    try:
        magnitude = abs(value)
        if magnitude >= 1e17:
            value = value / 1e9
        elif magnitude >= 1e14:
            value = value / 1e6
        elif magnitude >= 1e11:
            value = value / 1e3
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def parse_any(value: object) -> datetime | None:
    """A JSON/logfmt timestamp value: ISO string, epoch number or numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0].isdigit() and len(text) >= 10 and text[4:5] == "-":
            return parse_iso(text)
        if len(text) <= 25:
            try:
                return from_epoch(float(text))
            except ValueError:
                return None
    return None


def infer_year(month: int, day: int, now: datetime | None = None) -> int:
    """Year for a year-less date (RFC 3164 syslog, logcat): this year, unless that would put the
    date more than a day in the future — then it was logged last year (e.g. December lines read in
    January). The one-day slack absorbs clock skew and time zones."""
    now = now or datetime.now(UTC)
    return _infer_year(month, day, now.replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=1024)
def _infer_year(month: int, day: int, hour: datetime) -> int:
    # Cached per hour of "now": year-less parsers call this for every line.
    year = hour.year
    candidate = build(year, month, day, tz=UTC)
    if candidate is None:  # Feb 29 in a non-leap year: it must have been an earlier leap year
        return year - 1
    if candidate - hour > timedelta(days=1):
        return year - 1
    return year
