"""Helpers for the format tests: the captured sample files and a fixed clock.

A plain module (not a conftest) so tests import it by name, like ``loghub_samples``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.models import LogRecord

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"

#: "Now" for year inference in year-less formats; the samples were captured on this day.
NOW = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def sample_lines(relative: str) -> list[str]:
    return (DATA / relative).read_text(encoding="utf-8").splitlines()


def parse_lines(spec: FormatSpec, relative: str) -> list[LogRecord | None]:
    """One parse result per physical line (no folding)."""
    parser = spec.fit(sample_lines(relative))
    return [parser.parse(line) for line in sample_lines(relative)]


def fold_file(spec: FormatSpec, relative: str) -> list[LogRecord]:
    lines = sample_lines(relative)
    parser = spec.fit(lines)
    numbered = enumerate(lines, start=1)
    return list(fold_records(numbered, parser, multiline=spec.multiline, source=relative))
