"""Format detection on the captured real samples (tests/data/formats)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops_copilot.ingest.detect import Detection, detect_format
from aiops_copilot.ingest.formats import format_names

DATA = Path(__file__).resolve().parent / "data" / "formats"

EXPECTED = {
    "nginx_access/nginx-1.22-combined.log": "access_combined",
    "apache_access/apache-2.4-combined.log": "access_combined",
    "apache_access/apache-2.4-common.log": "access_combined",
    "nginx_error/nginx-1.22-error.log": "nginx_error",
    "apache_error/apache-2.4-error.log": "apache_error",
    "loghub/Apache_sample.log": "apache_error",
    "syslog_rfc3164/rsyslog-8.2302-sshd-traditional.log": "syslog_rfc3164",
    "syslog_rfc3164/rsyslog-8.2302-sshd-with-pri.log": "syslog_rfc3164",
    "syslog_rfc3164/journalctl-252-short.log": "syslog_rfc3164",
    "loghub/Linux_sample.log": "syslog_rfc3164",
    "loghub/OpenSSH_sample.log": "syslog_rfc3164",
    "loghub/Mac_sample.log": "syslog_rfc3164",
    "syslog_rfc5424/rsyslog-8.2302-protocol23.log": "syslog_rfc5424",
    "journalctl/journalctl-252-short-iso.log": "journalctl",
    "journalctl/rsyslog-8.2302-fileformat-iso.log": "journalctl",
    "json/journalctl-252-json.log": "json",
    "json/mixed-keys.log": "json",
    "json/node-bunyan-style.log": "json",
    "k8s_docker_json/cri-containerd.log": "k8s_docker_json",
    "k8s_docker_json/docker-json-file.log": "k8s_docker_json",
    "logfmt/app-logfmt.log": "logfmt",
    "postgresql/pg15-debian-default.log": "postgresql",
    "postgresql/pg15-prefix-t-p-l-user-db.log": "postgresql",
    "postgresql/pg15-upstream-default.log": "postgresql",
    "mysql/mariadb-10.11-error.log": "mysql",
    "mysql/mysql-8.0-error.log": "mysql",
    "redis/redis-7.0-master-verbose.log": "redis",
    "redis/redis-7.0-replica.log": "redis",
    "python_logging/basicconfig-default.log": "python_logging",
    "python_logging/asctime-dash.log": "python_logging",
    "python_logging/asctime-colon.log": "python_logging",
    "log4j/spring-boot.log": "log4j",
    "loghub/Hadoop_sample.log": "log4j",
    "loghub/Spark_sample.log": "log4j",
    "loghub/Zookeeper_sample.log": "log4j",
    "loghub/Android_sample.log": "android_logcat",
}


def _lines(relative: str) -> list[str]:
    return (DATA / relative).read_text(encoding="utf-8").splitlines()


def test_every_format_sample_is_covered() -> None:
    on_disk = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*.log")
        if not str(p.relative_to(DATA)).startswith("multiline/")
    }
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize(("relative", "expected"), sorted(EXPECTED.items()))
def test_detects_real_samples(relative: str, expected: str) -> None:
    detection = detect_format(_lines(relative))
    assert detection.spec.name == expected
    assert detection.parser.format_name == expected
    assert detection.confidence >= 0.8
    assert detection.scores[expected] == detection.confidence
    assert set(detection.scores) == set(format_names()) - {"plain"}


def test_forced_format_skips_scoring() -> None:
    detection = detect_format(_lines("loghub/Hadoop_sample.log"), forced="Postgres")
    assert detection.spec.name == "postgresql"
    assert detection.confidence == 1.0 and detection.scores == {}


def test_forced_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="valid formats"):
        detect_format(["x"], forced="klingon")


def test_empty_sample_falls_back() -> None:
    detection = detect_format([])
    assert detection.spec.name in ("generic", "plain")
    assert detection.confidence == 0.0
    assert detect_format(["", "   ", "\n"]).spec.name == detection.spec.name


def test_prose_is_plain_text() -> None:
    prose = [
        "Dear team,",
        "the deploy went fine but we saw some odd latency on Tuesday.",
        "Please have a look when you can.",
    ]
    detection = detect_format(prose)
    assert detection.spec.name == "plain"
    assert detection.confidence < 0.5


def test_bare_traceback_is_plain() -> None:
    assert detect_format(_lines("multiline/python-bare-traceback.log")).spec.name == "plain"


def test_crlf_lines_are_accepted() -> None:
    lines = [line + "\r\n" for line in _lines("loghub/Android_sample.log")]
    assert detect_format(lines).spec.name == "android_logcat"


def test_continuations_do_not_count_against_multiline_formats() -> None:
    # Two heads, a long Java trace: still log4j with full confidence.
    lines = _lines("log4j/spring-boot.log")
    assert detect_format(lines).confidence == 1.0


def test_detection_is_frozen() -> None:
    detection = detect_format(_lines("redis/redis-7.0-replica.log"))
    assert isinstance(detection, Detection)
    with pytest.raises(dataclasses.FrozenInstanceError):
        detection.confidence = 0.5  # type: ignore[misc]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=20))
def test_detection_never_raises(sample: list[str]) -> None:
    detection = detect_format(sample)
    assert 0.0 <= detection.confidence <= 1.0
    assert all(0.0 <= share <= 1.0 for share in detection.scores.values())
