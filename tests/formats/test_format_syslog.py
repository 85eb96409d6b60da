"""Syslog family on real output: rsyslog 8.2302 + OpenSSH 9.2, journald 252, Loghub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from format_helpers import fixed_clock, fold_file, parse_lines

from aiops_copilot.ingest.formats.journalctl import JournalctlFormat
from aiops_copilot.ingest.formats.syslog_rfc3164 import SyslogRfc3164Format
from aiops_copilot.ingest.formats.syslog_rfc5424 import SyslogRfc5424Format
from aiops_copilot.models import Level

RFC3164 = SyslogRfc3164Format(clock=fixed_clock)


def test_rfc3164_rsyslog_traditional_every_line_parses() -> None:
    records = parse_lines(RFC3164, "syslog_rfc3164/rsyslog-8.2302-sshd-traditional.log")
    assert all(r is not None for r in records)
    first = records[5]
    assert first is not None
    assert first.timestamp == datetime(2026, 11, 23, 22, 3, 0, tzinfo=UTC)
    assert (first.host, first.service, first.pid) == ("vm", "sshd", 8648)
    assert first.message == "Invalid user admin from 127.0.0.1 port 54638"
    assert first.format == "syslog_rfc3164"
    assert first.raw.startswith("Nov 23 22:03:00 vm sshd[8648]: ")


def test_rfc3164_without_pid_and_kernel() -> None:
    records = parse_lines(RFC3164, "syslog_rfc3164/rsyslog-8.2302-sshd-traditional.log")
    backup, kernel = records[18], records[22]
    assert backup is not None and kernel is not None
    assert (backup.service, backup.pid) == ("backup-job", None)
    assert backup.message == "rsync failed: exit code 23 (partial transfer)"
    assert kernel.service == "kernel"
    assert kernel.message.startswith("Out of memory: Killed process 4242")


def test_rfc3164_pri_prefix_gives_level_and_facility() -> None:
    records = parse_lines(RFC3164, "syslog_rfc3164/rsyslog-8.2302-sshd-with-pri.log")
    assert all(r is not None for r in records)
    by_line = {i + 1: r for i, r in enumerate(records)}
    sshd, backup_err, backup_info, local0, kern = (by_line[n] for n in (2, 19, 20, 22, 23))
    assert sshd is not None and sshd.level is Level.INFO and sshd.fields["facility"] == "auth"
    assert backup_err is not None and backup_err.level is Level.ERROR
    assert backup_info is not None and backup_info.level is Level.INFO
    assert local0 is not None and local0.level is Level.WARNING
    assert local0.fields["facility"] == "local0" and local0.pid == 4242
    # logger(1) cannot use the kern facility: the kernel maps it to user (PRI 10).
    assert kern is not None and kern.level is Level.CRITICAL and kern.fields["facility"] == "user"


def test_rfc3164_loghub_linux_pam_module() -> None:
    first = parse_lines(RFC3164, "loghub/Linux_sample.log")[0]
    assert first is not None
    assert first.timestamp == datetime(2026, 6, 14, 15, 16, 1, tzinfo=UTC)
    assert (first.host, first.service, first.pid) == ("combo", "sshd", 19939)
    assert first.fields["module"] == "pam_unix"
    assert first.message.startswith("authentication failure; logname= uid=0")


def test_rfc3164_year_inferred_into_previous_year() -> None:
    # Captured "Dec 10" read on Nov 23 2026 would be in the future: it is from 2025.
    first = parse_lines(RFC3164, "loghub/OpenSSH_sample.log")[0]
    assert first is not None
    assert first.timestamp == datetime(2025, 12, 10, 6, 55, 46, tzinfo=UTC)
    assert (first.host, first.service, first.pid) == ("LabSZ", "sshd", 24200)


def test_rfc3164_loghub_mac_padded_day_and_address() -> None:
    records = parse_lines(RFC3164, "loghub/Mac_sample.log")
    assert all(r is not None for r in records)
    first = records[0]
    assert first is not None
    assert first.timestamp == datetime(2026, 7, 1, 9, 0, 55, tzinfo=UTC)
    assert (first.service, first.pid) == ("kernel", 0)
    line = RFC3164.parse(
        "Jul  1 09:01:06 calvisitor-10-105-160-95 com.apple.xpc.launchd[1] "
        "(com.apple.preference.displays.MirrorDisplays): Service only ran for 0 seconds."
    )
    assert line is not None
    assert (line.service, line.pid) == ("com.apple.xpc.launchd", 1)
    assert line.fields["address"] == "com.apple.preference.displays.MirrorDisplays"
    assert line.message == "Service only ran for 0 seconds."


def test_rfc3164_journalctl_short_output() -> None:
    records = parse_lines(RFC3164, "syslog_rfc3164/journalctl-252-short.log")
    assert all(r is not None for r in records)
    assert records[0] is not None and records[0].service == "systemd-journald"


def test_rfc5424_rsyslog_protocol23() -> None:
    spec = SyslogRfc5424Format()
    records = parse_lines(spec, "syslog_rfc5424/rsyslog-8.2302-protocol23.log")
    assert all(r is not None for r in records)
    sshd, backup = records[1], records[18]
    assert sshd is not None and backup is not None
    assert sshd.timestamp == datetime(2026, 11, 23, 22, 2, 58, 587382, tzinfo=UTC)
    assert (sshd.host, sshd.service, sshd.pid, sshd.level) == ("vm", "sshd", 8642, Level.INFO)
    assert sshd.message == "Server listening on 127.0.0.1 port 12222."
    assert backup.pid is None and backup.level is Level.ERROR
    assert backup.message == "rsync failed: exit code 23 (partial transfer)"


def test_rfc5424_structured_data_and_rfc_example() -> None:
    spec = SyslogRfc5424Format()
    rec = spec.parse(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"lication" eventID="1011"]'
        '[examplePriority@32473 class="high"] An application event log entry...'
    )
    assert rec is not None
    assert rec.timestamp == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert rec.level is Level.NOTICE and rec.fields["facility"] == "local4"
    assert rec.fields["msgid"] == "ID47"
    assert rec.fields["exampleSDID@32473.eventSource"] == 'App"lication'
    assert rec.fields["examplePriority@32473.class"] == "high"
    assert rec.message == "An application event log entry..."
    assert (rec.host, rec.service, rec.pid) == ("mymachine.example.com", "evntslog", None)


def test_rfc5424_offset_zone() -> None:
    rec = SyslogRfc5424Format().parse("<34>1 2003-08-24T05:14:15.000003-07:00 host su - - - hi")
    assert rec is not None
    assert rec.timestamp == datetime(2003, 8, 24, 5, 14, 15, 3, timezone(timedelta(hours=-7)))
    assert rec.message == "hi" and rec.level is Level.CRITICAL


@pytest.mark.parametrize(
    "relative",
    ["journalctl/journalctl-252-short-iso.log", "journalctl/rsyslog-8.2302-fileformat-iso.log"],
)
def test_journalctl_short_iso(relative: str) -> None:
    records = parse_lines(JournalctlFormat(), relative)
    assert all(r is not None for r in records)


def test_journalctl_fields() -> None:
    records = parse_lines(JournalctlFormat(), "journalctl/journalctl-252-short-iso.log")
    invalid = next(r for r in records if r is not None and "Invalid user deploy" in r.message)
    assert invalid.timestamp == datetime(2026, 11, 23, 22, 3, 40, tzinfo=UTC)
    assert (invalid.host, invalid.service, invalid.pid) == ("vm", "sshd", 8823)
    assert invalid.message == "Invalid user deploy from 127.0.0.1 port 57596"
    iso = parse_lines(JournalctlFormat(), "journalctl/rsyslog-8.2302-fileformat-iso.log")[1]
    assert iso is not None
    assert iso.timestamp == datetime(2026, 11, 23, 22, 2, 58, 587382, tzinfo=UTC)


def test_journalctl_boot_marker_is_its_own_record() -> None:
    rec = JournalctlFormat().parse("-- Boot 5649e38ad72c4910beba7c1f4387c29e --")
    assert rec is not None and rec.service == "journal"
    assert JournalctlFormat().parse("-- not a marker") is None


def test_journalctl_folds_nothing_on_clean_file() -> None:
    records = fold_file(JournalctlFormat(), "journalctl/journalctl-252-short-iso.log")
    assert len(records) == 16
