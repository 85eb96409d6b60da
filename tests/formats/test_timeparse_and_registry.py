"""Timestamp helpers and the format registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aiops_copilot.ingest.formats import ALL_FORMATS, format_names, get_format
from aiops_copilot.ingest.timeparse import from_epoch, infer_year, parse_any, parse_iso


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23 10:00:00,123", datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-11-23T10:00:00.123456789Z", datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-23T10:00:00+0530",
         datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        ("2026-11-23T10:00:00-07:00",
         datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=-7)))),
        ("2026-11-23 10:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-02-30T10:00:00Z", None),
        ("2026-11-23T10:00:00+99:00", None),
        ("yesterday", None),
    ],
)  # fmt: skip
def test_parse_iso(text: str, expected: datetime | None) -> None:
    assert parse_iso(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795428000, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (1795428000123, datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)),
        (1795428000123456, datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)),
        (1795428000123456789, datetime(2026, 11, 23, 10, 0, 0, 123457, tzinfo=UTC)),
        (float("inf"), None),
        (float("nan"), None),
        (1e300, None),
    ],
)
def test_from_epoch_guesses_unit(value: float, expected: datetime | None) -> None:
    result = from_epoch(value)
    if expected is None:
        assert result is None
    else:
        assert result is not None and abs(result - expected) < timedelta(microseconds=2)


def test_parse_any() -> None:
    assert parse_any("1795428000") == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert parse_any(True) is None and parse_any(None) is None and parse_any("") is None
    assert parse_any("2026-11-23T10:00:00Z") == datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("month", "day", "now", "year"),
    [
        (6, 14, datetime(2026, 11, 23, tzinfo=UTC), 2026),
        (12, 10, datetime(2026, 11, 23, tzinfo=UTC), 2025),
        (11, 24, datetime(2026, 11, 23, 12, tzinfo=UTC), 2026),  # within the one-day slack
        (11, 25, datetime(2026, 11, 23, 12, tzinfo=UTC), 2025),
        (12, 31, datetime(2027, 1, 1, 0, 5, tzinfo=UTC), 2026),
        (2, 29, datetime(2027, 3, 1, tzinfo=UTC), 2026),
    ],
)
def test_infer_year(month: int, day: int, now: datetime, year: int) -> None:
    assert infer_year(month, day, now) == year


def test_registry_names_and_lookup() -> None:
    names = format_names()
    assert len(names) == len(set(names)) == len(ALL_FORMATS)
    for expected in (
        "syslog_rfc3164", "syslog_rfc5424", "journalctl", "json", "k8s_docker_json", "logfmt",
        "access_combined", "nginx_error", "apache_error", "postgresql", "mysql", "redis",
        "python_logging", "log4j", "android_logcat", "plain",
    ):  # fmt: skip
        assert expected in names
        assert get_format(expected).name == expected
    assert get_format(" MariaDB ").name == "mysql"
    assert get_format("apache_access").name == "access_combined"


def test_registry_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(KeyError, match=r"valid formats: .*syslog_rfc3164"):
        get_format("nope")


def test_every_spec_declares_sane_metadata() -> None:
    for spec in ALL_FORMATS:
        assert spec.name and spec.description
        if spec.name not in ("generic", "plain"):
            assert 0.1 < spec.specificity <= 1.0, spec.name
    assert get_format("plain").specificity == 0.05
    for name in ("json", "k8s_docker_json", "logfmt", "access_combined"):
        assert get_format(name).multiline is False
