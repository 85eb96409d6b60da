"""The follower's two byte-level pieces: lines with offsets, and folding that waits."""

from __future__ import annotations

from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.live.folding import FoldOptions, RecordFolder
from aiops_copilot.live.lines import LineSplitter

JAVA = [
    "2026-11-23 23:00:00.000 ERROR 1 --- [main] c.e.Shop : order failed",
    "java.lang.IllegalStateException: pool exhausted",
    "\tat com.example.Pool.take(Pool.java:42)",
    "\tat com.example.Shop.order(Shop.java:7)",
    "",
    "2026-11-23 23:00:01.000 INFO 1 --- [main] c.e.Shop : order 2 ok",
    "2026-11-23 23:00:02.000 WARN 1 --- [main] c.e.Shop : slow order 3",
    "\tat com.example.Shop.order(Shop.java:9)",
]


def test_lines_carry_offsets_and_wait_for_their_newline() -> None:
    first = LineSplitter(100, offset=10, line_no=4)
    lines = first.feed(b"one\r\ntw")
    assert [(x.number, x.text, x.start, x.end) for x in lines] == [(5, "one", 10, 15)]
    assert (first.consumed, first.buffered) == (15, 2)
    lines = first.feed(b"o\n")
    assert [(x.number, x.text, x.start, x.end) for x in lines] == [(6, "two", 15, 19)]
    assert first.finish() == []
    first.feed(b"tail")
    assert [x.text for x in first.finish()] == ["tail"] and first.consumed == 23


def test_a_long_line_is_cut_without_being_buffered() -> None:
    splitter = LineSplitter(8)
    assert [x.text for x in splitter.feed(b"abcdefghijkl")] == ["abcdefgh"]
    assert splitter.buffered == 0  # the rest is dropped as it streams past
    assert splitter.feed(b"mnop") == []
    lines = splitter.feed(b"qr\nok\n\xff\xfe\n")
    assert [x.text for x in lines] == ["ok", "\ufffd\ufffd"]
    assert (splitter.cut, splitter.invalid_utf8) == (1, 1)
    assert lines[0].start == 19 and splitter.consumed == 25  # 12 + 4 + 3 cut bytes before


def _batch(lines: list[str]) -> list[tuple[int, int, str]]:
    detection = detect_format(lines)
    records = fold_records(
        enumerate(lines, 1), detection.parser, multiline=detection.spec.multiline, source="s"
    )
    return [(r.line_no, r.end_line, r.message) for r in records]


def test_folding_line_by_line_gives_what_one_pass_gives() -> None:
    splitter = LineSplitter(1000)
    folder = RecordFolder("s", FoldOptions(sample_lines=3))
    got = []
    for text in JAVA:
        folder.add(splitter.feed((text + "\n").encode()))
        got += folder.take(final=False)
    # The last record may still get a stack frame: held back until the source is quiet.
    assert [r.line_no for r in got] == [1, 6]
    assert [line.number for line in folder.held] == [7, 8]
    got += folder.take(final=True)
    assert [(r.line_no, r.end_line, r.message) for r in got] == _batch(JAVA)
    assert folder.held == [] and folder.format == _format(JAVA)


def _format(lines: list[str]) -> str:
    return detect_format(lines[:3]).spec.name


def test_the_format_waits_for_a_sample_unless_the_source_goes_quiet() -> None:
    folder = RecordFolder("s", FoldOptions(sample_lines=200))
    folder.add(LineSplitter(1000).feed(("\n".join(JAVA[:1]) + "\n").encode()))
    assert folder.take(final=False) == [] and folder.format == ""
    assert [r.line_no for r in folder.take(final=True)] == [1]
    assert folder.format != ""
