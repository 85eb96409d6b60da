"""No input may make a parser, the PostgreSQL continuation hook or folding raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops_copilot.ingest.formats import ALL_FORMATS
from aiops_copilot.ingest.formats.postgresql import PostgresqlFormat
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.models import LogRecord

# Text biased towards log-ish characters so the regexes get past their pre-checks.
_LOGISH = st.text(
    alphabet=st.sampled_from(list("0123456789-:/.,T Z+[]{}<>()\"'=#*@\t\\abcINFOERWAJnlov|_")),
    max_size=120,
)
_PREFIXES = st.sampled_from(
    [
        "", "<34>1 ", "<13>Nov 23 10:00:00 ", "Jun 14 15:16:01 h p[1]: ", "2026-11-23 10:00:00",
        "2026-11-23T10:00:00.123456789Z stdout F ", '{"log":', "{", "ts=", "level=",
        '1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "', "2026/11/23 10:00:00 [error] ",
        "[Mon Nov 23 10:00:00.1 2026] [", "2026-11-23 10:00:00.123 UTC [1] ", "1:M 23 Nov 2026 ",
        "ERROR:", "17/06/09 20:10:40 INFO ", "03-17 16:13:38.811  1  2 ", "Traceback",
        "2026-11-23T10:00:00+0000 h ", "2026-13-45 99:99:99 0 [Note] ", "[1] 31 Feb ",
    ]
)  # fmt: skip
LINES = st.one_of(st.text(max_size=200), st.builds(lambda p, t: p + t, _PREFIXES, _LOGISH))
#: Physical lines as a reader yields them: no embedded line breaks.
PHYSICAL = LINES.map(lambda s: s.replace("\n", " ").replace("\r", " "))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_parsers_never_raise(line: str) -> None:
    for spec in ALL_FORMATS:
        result = spec.parse(line)
        assert result is None or isinstance(result, LogRecord)
        if result is not None:
            assert result.format == spec.name
    pg = PostgresqlFormat()
    extra = pg.continuation(line)
    assert extra is None or isinstance(extra[0], str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PHYSICAL, max_size=30), st.booleans(), st.integers(min_value=1, max_value=5))
def test_folding_never_raises_and_keeps_every_line(
    lines: list[str], multiline: bool, max_lines: int
) -> None:
    for spec in ALL_FORMATS:
        numbered = list(enumerate(lines, start=1))
        parser = spec.fit(lines)
        folded = fold_records(
            numbered, parser, multiline=multiline, source="x", max_record_lines=max_lines
        )
        records = list(folded)
        covered = sum(r.end_line - r.line_no + 1 for r in records)
        non_blank = [n for n, text in numbered if text.rstrip("\r\n").strip()]
        assert covered >= len(non_blank) if records else not non_blank
        for record in records:
            assert record.line_no <= record.end_line
            assert record.message.count("\n") < max_lines
