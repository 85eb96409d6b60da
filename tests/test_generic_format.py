"""The generic format learns each Loghub header with no per-dataset settings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.ingest.formats.generic import GenericFormat, learn_shape, parse_timestamp
from aiops_copilot.models import Level
from loghub_samples import DATASETS, load_labelled


@pytest.mark.parametrize("name", DATASETS)
def test_header_learned_and_message_extracted(name: str) -> None:
    data = load_labelled(name)
    parser = GenericFormat().fit(data.raw_lines[:200])
    exact = 0
    for line, content in zip(data.raw_lines, data.contents, strict=True):
        record = parser.parse(line)
        assert record is not None, line
        exact += record.message.strip() == content.strip()
    # HealthApp's labels differ from its raw text on one line (see the data README).
    assert exact >= len(data.contents) - 1


@pytest.mark.parametrize(
    ("line", "level", "service", "pid", "iso"),
    [
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
            Level.INFO,
            "dfs.DataNode$PacketResponder",
            None,
            "2008-11-09T20:36:15+00:00",
        ),
        (
            "2015-10-18 18:01:47,978 WARN [main] org.apache.Foo: disk slow",
            Level.WARNING,
            "org.apache.Foo",
            None,
            "2015-10-18T18:01:47.978000+00:00",
        ),
        (
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure",
            Level.UNKNOWN,
            "sshd(pam_unix)",
            19939,
            None,
        ),
    ],
)
def test_fields_from_header(
    line: str, level: Level, service: str, pid: int | None, iso: str | None
) -> None:
    record = GenericFormat().fit([line] * 5).parse(line)
    assert record is not None
    assert record.level is level
    assert record.service == service
    assert record.pid == pid
    if iso is not None:
        assert record.timestamp is not None and record.timestamp.isoformat() == iso
    else:
        assert record.timestamp is not None and record.timestamp.tzinfo is not None


def test_plain_text_has_no_header() -> None:
    sample = ["the quick brown fox", "jumps over the lazy dog", "hello world"]
    assert learn_shape(sample) == ()
    assert GenericFormat().fit(sample).parse("hello world") is None


def test_continuation_lines_are_not_record_heads() -> None:
    sample = [f"2024-01-01 10:00:0{i} ERROR app: boom" for i in range(9)]
    parser = GenericFormat().fit(sample)
    assert parser.parse("    at com.example.Foo.bar(Foo.java:10)") is None
    assert parser.parse("Caused by: java.io.IOException: x") is None


@pytest.mark.parametrize("text", ["1117838570", "2005-06-03-15.42.50.675872", "[10.30 16:49:06]"])
def test_timestamps_are_timezone_aware(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None and parsed.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), min_size=1, max_size=20), st.text(max_size=300))
def test_never_raises(sample: list[str], line: str) -> None:
    parser = GenericFormat().fit(sample)
    record = parser.parse(line)
    assert record is None or isinstance(record.message, str)


def test_odd_header_is_still_a_record_not_a_continuation() -> None:
    sample = [
        f"{134681 + i} node-{i} unix.hw state_change.unavailable 1077804742 1 Component down"
        for i in range(20)
    ]
    parser = GenericFormat().fit(sample)
    negative_flag = parser.parse("2286759 full partition status 1061219795 -1 running")
    assert negative_flag is not None and negative_flag.message == "running"
    stray = parser.parse("2286760 node-7 unix.hw state_change 1061219795 boot halted")
    assert stray is not None and stray.timestamp is not None
    assert stray.message == "boot halted"
