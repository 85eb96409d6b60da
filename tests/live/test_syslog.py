"""Syslog: framing and parsing on bytes, then real UDP and TCP sockets on loopback."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from aiops_copilot.live.syslog import SyslogServer, parse_url
from aiops_copilot.live.syslog_parse import Framer, parse_message
from aiops_copilot.models import Level, LogRecord

RFC3164 = b"<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8"
RFC5424 = (
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 4711 ID47 "
    b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] '
    b"\xef\xbb\xbfAn application event log entry"
)
BARE = b"<11>backup[77]: disk /dev/sdb1 full, backup aborted"


def parse(data: bytes) -> LogRecord | None:
    return parse_message(
        data, peer="192.0.2.9", source="syslog+udp://127.0.0.1:5514", number=7,
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )  # fmt: skip


def test_rfc5424_fills_every_field() -> None:
    record = parse(RFC5424)
    assert record is not None
    assert (record.format, record.level, record.host, record.service, record.pid) == (
        "syslog_rfc5424", Level.NOTICE, "mymachine.example.com", "evntslog", 4711,
    )  # fmt: skip
    assert record.timestamp == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert record.fields["facility"] == "local4" and record.fields["msgid"] == "ID47"
    assert record.fields["exampleSDID@32473.eventID"] == "1011"
    assert record.fields["peer"] == "192.0.2.9"
    assert record.message == "An application event log entry"
    assert (record.source, record.line_no, record.end_line) == (
        "syslog+udp://127.0.0.1:5514", 7, 7,
    )  # fmt: skip


def test_rfc3164_and_a_bare_message_from_a_device() -> None:
    record = parse(RFC3164)
    assert record is not None
    assert (record.level, record.host, record.service, record.pid) == (
        Level.CRITICAL, "mymachine", "su", 230,
    )  # fmt: skip
    assert record.fields["facility"] == "auth"
    assert record.message == "'su root' failed for lonvick on /dev/pts/8"
    bare = parse(BARE)
    assert bare is not None
    # No timestamp, no hostname: the time of receipt and the sender stand in.
    assert (bare.level, bare.host, bare.service, bare.pid) == (
        Level.ERROR,
        "192.0.2.9",
        "backup",
        77,
    )
    assert bare.timestamp == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert bare.message == "disk /dev/sdb1 full, backup aborted"


def test_a_multi_line_message_keeps_its_lines() -> None:
    record = parse(RFC3164 + b"\n  at Main.run(Main.java:7)\n  at Main.main(Main.java:3)")
    assert record is not None
    assert record.message.splitlines()[1:] == [
        "  at Main.run(Main.java:7)",
        "  at Main.main(Main.java:3)",
    ]
    assert record.service == "su"


@pytest.mark.parametrize("data", [b"no priority here", b"<192>1 - - - - - - too high", b"", b"<>x"])
def test_malformed_messages_are_refused(data: bytes) -> None:
    assert parse(data) is None


def test_framer_reads_both_framings_in_any_split() -> None:
    stream = (
        RFC3164 + b"\n"
        + str(len(RFC5424)).encode() + b" " + RFC5424
        + BARE + b"\r\n"
        + b"\n"  # an empty line: no frame
        + str(len(BARE)).encode() + b" " + BARE
    )  # fmt: skip
    for size in (1, 7, len(stream)):
        framer = Framer(4096)
        frames = []
        for start in range(0, len(stream), size):
            frames += framer.feed(stream[start : start + size])
        frames += framer.close()
        assert frames == [RFC3164, RFC5424, BARE, BARE], size
        assert framer.counts.malformed == 0


def test_framer_bounds_messages_and_stops_on_a_broken_length() -> None:
    framer = Framer(100)
    big = b"<13>" + b"x" * 1000
    frames = framer.feed(b"1004 " + big + b"<13>after\n" + big + b"\n<13>next\n")
    assert frames == [big[:100], b"<13>after", big[:100], b"<13>next"]
    assert framer.counts.oversize == 2
    broken = Framer(100)
    assert broken.feed(b"12345678901 <13>x\n") == []
    assert broken.broken and broken.counts.malformed == 1
    cut_off = Framer(100)
    assert cut_off.feed(b"50 <13>only part") == [] and cut_off.close() == []
    assert cut_off.counts.malformed == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:514", "udp://HOST:PORT"),
        ("udp://127.0.0.1", "needs a port"),
        ("tcp://127.0.0.1:99999", "bad port"),
    ],
)
def test_bad_urls_are_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_url(url)


class Sink:
    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.malformed = 0
        self._lock = threading.Lock()

    def __call__(self, records: list[LogRecord]) -> None:
        with self._lock:
            self.records.extend(records)

    def bad(self, count: int) -> None:
        with self._lock:
            self.malformed += count

    def wait(self, records: int, malformed: int = 0) -> None:
        deadline = time.monotonic() + 10
        while len(self.records) < records or self.malformed < malformed:
            assert time.monotonic() < deadline, (len(self.records), self.malformed)
            time.sleep(0.01)


def test_udp_datagrams_become_records_and_junk_is_counted() -> None:
    sink = Sink()
    with SyslogServer("udp://127.0.0.1:0", sink, on_malformed=sink.bad) as server:
        host, port = server.bound_address
        assert port != 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for payload in (RFC3164, RFC5424, b"junk without a priority", BARE):
                client.sendto(payload, (host, port))
        sink.wait(records=3, malformed=1)
        stats = server.stats
    assert [r.format for r in sink.records] == [
        "syslog_rfc3164",
        "syslog_rfc5424",
        "syslog_rfc3164",
    ]
    assert {r.source for r in sink.records} == {f"syslog+udp://127.0.0.1:{port}"}
    assert (stats.messages, stats.records, stats.malformed) == (4, 3, 1)
    assert [r.line_no for r in sink.records] == [1, 2, 4]


def test_tcp_with_both_framings_several_clients_and_a_broken_one() -> None:
    sink = Sink()
    with SyslogServer("tcp://127.0.0.1:0", sink, on_malformed=sink.bad) as server:
        address = server.bound_address
        octets = b"".join(str(len(m)).encode() + b" " + m for m in (RFC5424, BARE) * 50)
        lines = b"".join(m + b"\n" for m in (RFC3164, b"not syslog at all") * 50)
        for payload in (octets, lines):
            with socket.create_connection(address) as client:
                for start in range(0, len(payload), 333):  # frames cut across sends
                    client.sendall(payload[start : start + 333])
        with socket.create_connection(address) as client:
            client.sendall(b"<13>last words without a newline")
        with socket.create_connection(address) as client:
            client.sendall(b"99999999999 <13>a length nobody can frame\n")
        sink.wait(records=151, malformed=51)
        time.sleep(0.2)
        stats = server.stats
    # 100 octet-counted + 50 newline-framed + the unterminated last one; 50 junk lines and
    # the unframeable length are malformed.
    assert len(sink.records) == 151 and sink.malformed == 51
    formats = [r.format for r in sink.records]
    assert formats.count("syslog_rfc5424") == 50 and formats.count("syslog_rfc3164") == 101
    assert "last words without a newline" in [r.message for r in sink.records]
    assert stats.connections == 4


def test_an_address_in_use_is_an_error_at_start() -> None:
    sink = Sink()
    with SyslogServer("tcp://127.0.0.1:0", sink) as first:
        _, port = first.bound_address
        second = SyslogServer(f"tcp://127.0.0.1:{port}", sink)
        with pytest.raises(OSError):
            second.start()
