"""Web servers on real output: nginx 1.22 and Apache 2.4.71 (Debian), plus Loghub Apache 2.x."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from format_helpers import fold_file, parse_lines

from aiops_copilot.ingest.formats import get_format
from aiops_copilot.ingest.formats.access import AccessLogFormat
from aiops_copilot.ingest.formats.apache_error import ApacheErrorFormat
from aiops_copilot.ingest.formats.nginx_error import NginxErrorFormat
from aiops_copilot.models import Level

ACCESS = AccessLogFormat()
NGINX_ERROR = NginxErrorFormat()
APACHE_ERROR = ApacheErrorFormat()


@pytest.mark.parametrize(
    "relative",
    [
        "nginx_access/nginx-1.22-combined.log",
        "apache_access/apache-2.4-combined.log",
        "apache_access/apache-2.4-common.log",
    ],
)
def test_access_every_line_parses(relative: str) -> None:
    records = parse_lines(ACCESS, relative)
    assert records and all(r is not None for r in records)


def test_access_status_levels_and_fields() -> None:
    records = parse_lines(ACCESS, "nginx_access/nginx-1.22-combined.log")
    ok, missing, bad_gateway, browser = records[0], records[2], records[3], records[7]
    assert ok is not None and missing is not None and bad_gateway is not None
    assert browser is not None
    assert ok.timestamp == datetime(2026, 11, 23, 22, 0, 35, tzinfo=UTC)
    assert ok.level is Level.INFO and ok.message == "GET / HTTP/1.1 200"
    assert ok.fields == {
        "remote_addr": "127.0.0.1",
        "status": 200,
        "method": "GET",
        "path": "/",
        "protocol": "HTTP/1.1",
        "bytes": 6,
        "user_agent": "curl/7.88.1",
    }
    assert missing.level is Level.WARNING and missing.fields["status"] == 404
    assert bad_gateway.level is Level.ERROR and bad_gateway.fields["path"] == "/api/users"
    assert browser.fields["referer"] == "http://example.com/ref"
    assert browser.fields["user_agent"].startswith("Mozilla/5.0 (X11; Linux x86_64)")


def test_access_malformed_request_line() -> None:
    records = parse_lines(ACCESS, "nginx_access/nginx-1.22-combined.log")
    garbage = next(r for r in records if r is not None and r.message.startswith("GARBAGE"))
    assert garbage.fields["request"] == "GARBAGE" and garbage.fields["status"] == 400
    assert "method" not in garbage.fields


def test_access_common_format_apache() -> None:
    records = parse_lines(ACCESS, "apache_access/apache-2.4-common.log")
    unavailable = records[4]
    assert unavailable is not None
    assert unavailable.level is Level.ERROR and unavailable.fields["status"] == 503
    assert "user_agent" not in unavailable.fields and unavailable.fields["bytes"] == 339


def test_access_extra_fields_and_user() -> None:
    rec = ACCESS.parse(
        '10.1.2.3 - alice [01/Feb/2026:03:04:05 -0500] "POST /x?y=1 HTTP/2.0" 201 - "-" "ua" 0.012'
    )
    assert rec is not None
    assert rec.fields["remote_user"] == "alice" and rec.fields["bytes"] == 0
    assert rec.fields["extra"] == "0.012"
    assert rec.timestamp is not None and rec.timestamp.utcoffset() is not None
    assert rec.timestamp.astimezone(UTC) == datetime(2026, 2, 1, 8, 4, 5, tzinfo=UTC)


def test_access_aliases() -> None:
    assert get_format("nginx_access") is get_format("apache_access")
    assert get_format("nginx-access").name == "access_combined"


def test_nginx_error_fields() -> None:
    records = parse_lines(NGINX_ERROR, "nginx_error/nginx-1.22-error.log")
    assert all(r is not None for r in records)
    notice = records[0]
    assert notice is not None
    assert notice.timestamp == datetime(2026, 11, 23, 22, 0, 34, tzinfo=UTC)
    assert (notice.level, notice.pid, notice.service) == (Level.NOTICE, 7234, "nginx")
    upstream = next(r for r in records if r is not None and "connect() failed" in r.message)
    assert upstream.level is Level.ERROR
    assert upstream.message == (
        "connect() failed (111: Connection refused) while connecting to upstream"
    )
    assert upstream.fields == {
        "tid": 7236,
        "connection": 4,
        "client": "127.0.0.1",
        "server": "",
        "request": "GET /api/users HTTP/1.1",
        "upstream": "http://127.0.0.1:1/api/users",
        "host": "127.0.0.1:18080",
    }
    info = next(r for r in records if r is not None and r.level is Level.INFO)
    assert info.message == "client 127.0.0.1 closed keepalive connection"


def test_nginx_error_duplicate_host_header_keeps_quoted_commas() -> None:
    records = parse_lines(NGINX_ERROR, "nginx_error/nginx-1.22-error.log")
    dup = next(r for r in records if r is not None and "duplicate host" in r.message)
    assert dup.message.startswith('client sent duplicate host header: "Host: b"')
    assert dup.fields["request"] == "GET /index.html HTTP/1.1" and dup.fields["host"] == "a"


def test_apache_24_error_log() -> None:
    records = parse_lines(APACHE_ERROR, "apache_error/apache-2.4-error.log")
    assert records[1] is None  # "AH00016: Configuration Failed" continues line 1
    denied = next(r for r in records if r is not None and "AH01630" in r.message)
    assert denied.timestamp == datetime(2026, 11, 23, 22, 1, 17, 870246, tzinfo=UTC)
    assert (denied.level, denied.pid, denied.service) == (Level.ERROR, 7559, "apache")
    assert denied.fields == {
        "module": "authz_core",
        "tid": 7566,
        "client": "127.0.0.1:43066",
        "code": "AH01630",
    }
    assert denied.message == (
        "AH01630: client denied by server configuration: /tmp/apx/html/private"
    )
    proxy = next(r for r in records if r is not None and r.fields.get("code") == "AH00957")
    assert proxy.message.startswith("(111)Connection refused: AH00957:")


def test_apache_24_error_log_folds_headerless_line() -> None:
    records = fold_file(APACHE_ERROR, "apache_error/apache-2.4-error.log")
    assert (records[0].line_no, records[0].end_line) == (1, 2)
    assert records[0].message.endswith("\nAH00016: Configuration Failed")
    assert len(records) == 14


def test_apache_22_loghub() -> None:
    records = parse_lines(APACHE_ERROR, "loghub/Apache_sample.log")
    assert all(r is not None for r in records)
    first, error = records[0], records[1]
    assert first is not None and error is not None
    assert first.timestamp == datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC)
    assert first.level is Level.NOTICE and first.pid is None and first.fields == {}
    assert first.message == "workerEnv.init() ok /etc/httpd/conf/workers2.properties"
    assert error.level is Level.ERROR


def test_apache_trace_levels_and_22_client() -> None:
    rec = APACHE_ERROR.parse(
        "[Sat Jun 24 09:06:22 2006] [error] [client 1.2.3.4] File does not exist"
    )
    assert rec is not None and rec.fields["client"] == "1.2.3.4"
    rec = APACHE_ERROR.parse("[Mon Nov 23 10:00:00.1 2026] [http:trace3] [pid 1] x")
    assert rec is not None and rec.level is Level.TRACE
