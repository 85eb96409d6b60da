"""analyze() end to end on small real-looking logs written to temporary files: the same
ingest, miner, knowledge base, detectors, grouping, context and fixers as ``aiops analyze``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from core_helpers import shipped_kb

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.models import AnalysisResult, Domain, LogRecord, Severity, SignalKind
from aiops_copilot.parsing.miner import Cluster, TemplateMiner


def _run(
    paths: Sequence[Path],
    *,
    hook: list[tuple[LogRecord, Cluster]] | None = None,
    detectors: bool = True,
) -> AnalysisResult:
    run = open_inputs([str(p) for p in paths])
    assert run.sources, run.skipped
    options = AnalysisOptions(detectors=default_detectors() if detectors else ())
    return analyze(
        run,
        iter_records(run, ReadOptions()),
        TemplateMiner(),
        shipped_kb(),
        options,
        on_record=None if hook is None else lambda r, c: hook.append((r, c)),
    )


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _clock(i: int) -> str:
    """12:MM:SS for the i-th ten-second tick after noon."""
    return f"12:{i // 6:02d}:{i * 10 % 60:02d}"


def _access_log(path: Path, *, health_status: int = 200, ticks: int = 60) -> Path:
    lines = []
    for i in range(ticks):
        stamp = f"[01/May/2024:{_clock(i)} +0000]"
        lines.append(
            f'10.0.0.5 - - {stamp} "GET /healthz HTTP/1.1" {health_status} 2 "-" "kube-probe/1.29"'
        )
        if i % 3 == 0:
            lines.append(
                f'10.0.0.6 - - {stamp} "GET /metrics HTTP/1.1" 200 4051 "-" "Prometheus/2.51.0"'
            )
        if i % 10 == 0:
            lines.append(
                f'192.168.1.{i} - - {stamp} "GET /favicon.ico HTTP/1.1" 404 153 "-" "Mozilla/5.0"'
            )
        lines.append(
            f'192.168.1.{i} - - {stamp} "GET /api/orders/{1000 + i} HTTP/1.1" 200 312 "-" '
            '"Mozilla/5.0"'
        )
    return _write(path, lines)


def _app_log(path: Path, *, error: str | None = None, ticks: int = 60) -> Path:
    lines = [
        f"2024-05-01 {_clock(i)},{i * 7 % 1000:03d} INFO orders: served order {1000 + i} "
        f"in {i % 40 + 3} ms"
        for i in range(ticks)
    ]
    if error is not None:
        lines.insert(40, error)
    return _write(path, lines)


KEYERROR = (
    "2024-05-01 12:06:41,413 ERROR orders: could not reserve stock for order 1040: "
    "KeyError: 'sku-991'"
)


def test_health_checks_and_one_real_error(tmp_path: Path) -> None:
    access = _access_log(tmp_path / "access.log")
    app = _app_log(tmp_path / "app.log", error=KEYERROR)
    result = _run([access, app])
    (found,) = result.incidents
    assert found.sources == [str(app)]
    assert [ref.line_no for ref in found.lines] == [41]
    assert found.classification is not None
    assert found.classification.top is Domain.APPLICATION
    assert found.diagnosis is not None and found.diagnosis.agent
    assert "KeyError" in found.text
    assert not any("healthz" in ref.text or "favicon" in ref.text for ref in found.lines)
    detection = result.summary["detection"]
    assert detection["incidents"] == 1
    assert detection["suppressed_as_noise"] >= 1  # the favicon 404s (logged as warnings)


def test_a_failing_health_check_is_news(tmp_path: Path) -> None:
    result = _run([_access_log(tmp_path / "access.log", health_status=503)])
    (found,) = result.incidents
    assert found.severity.rank >= Severity.MEDIUM.rank
    assert all("/healthz" in ref.text and '" 503 ' in ref.text for ref in found.lines)


def _auth_log(path: Path, accepted: str) -> Path:
    """Twelve failed root passwords from 203.0.113.7 in a minute, then ``accepted`` (the text
    after ``Accepted``), then a routine key login by another user from another address."""
    lines = []
    for i in range(12):
        stamp = f"May  1 {_clock(i // 2)}"
        lines.append(
            f"{stamp} web1 sshd[{2000 + i}]: Failed password for root from 203.0.113.7 "
            f"port {40000 + i} ssh2"
        )
        lines.append(
            f"{stamp} web1 sshd[{2000 + i}]: pam_unix(sshd:auth): authentication failure; "
            "logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root"
        )
    lines.append(f"May  1 12:01:10 web1 sshd[2100]: Accepted {accepted} port 40100 ssh2")
    lines.append(
        "May  1 12:01:30 web1 sshd[2101]: Accepted publickey for deploy from 198.51.100.20 "
        "port 50000 ssh2: ED25519 SHA256:lLssuMF4zWPvF"
    )
    return _write(path, lines)


def test_brute_force_then_login_from_the_attacker(tmp_path: Path) -> None:
    result = _run([_auth_log(tmp_path / "auth.log", "password for root from 203.0.113.7")])
    (found,) = result.incidents
    assert found.classification is not None
    assert found.classification.top is Domain.SECURITY
    assert found.severity is Severity.CRITICAL
    assert any(r.startswith("context (a login that succeeded)") for r in found.grouped_because)
    assert any(r.startswith("severity raised from") for r in found.grouped_because)
    assert found.entities.get("ip:203.0.113.7", 0) >= 12
    assert not any("deploy" in ref.text for ref in found.lines)


def test_brute_force_without_a_successful_login(tmp_path: Path) -> None:
    result = _run([_auth_log(tmp_path / "auth.log", "password for alice from 198.51.100.99")])
    (found,) = result.incidents
    assert found.classification is not None
    assert found.classification.top is Domain.SECURITY
    assert found.severity.rank < Severity.CRITICAL.rank
    assert not any(r.startswith("context (a login") for r in found.grouped_because)


def test_login_of_the_attacked_user_from_elsewhere_is_not_called_the_same_source(
    tmp_path: Path,
) -> None:
    result = _run([_auth_log(tmp_path / "auth.log", "password for root from 198.51.100.99")])
    (found,) = result.incidents
    assert found.diagnosis is not None
    said = f"{found.diagnosis.root_cause} {found.diagnosis.severity_reason or ''}"
    assert "from the same source" not in said


def test_a_clean_log_has_no_incidents(tmp_path: Path) -> None:
    result = _run([_app_log(tmp_path / "app.log"), _access_log(tmp_path / "access.log")])
    assert result.incidents == []
    assert result.summary["detection"]["incidents"] == 0


def test_on_record_sees_every_record(tmp_path: Path) -> None:
    seen: list[tuple[LogRecord, Cluster]] = []
    app = _app_log(tmp_path / "app.log", error=KEYERROR)
    _run([app], hook=seen)
    assert [record.line_no for record, _ in seen] == list(range(1, 62))
    assert {record.source for record, _ in seen} == {str(app)}
    assert len({cluster.resolve().template_id for _, cluster in seen}) == 2


def test_weak_signals_are_observations_not_incidents(tmp_path: Path) -> None:
    warning = "2024-05-01 12:05:00,001 WARN orders: cache rebuild took 2300 ms"
    lines = _app_log(tmp_path / "app.log").read_text(encoding="utf-8").splitlines()
    app = _write(tmp_path / "app.log", [*lines[:30], warning, *lines[30:]])
    result = _run([app], detectors=False)
    assert result.incidents == []
    (observation,) = result.observations
    assert observation.kind is SignalKind.SEVERITY
    assert observation.severity is Severity.LOW
    assert "1 record(s) at level WARNING" in observation.reason


def test_summary_detection_counts(tmp_path: Path) -> None:
    records = [
        {
            "ts": f"2024-05-01T{_clock(i)}Z",
            "level": "info" if i % 10 else "error",
            "msg": "request finished" if i % 10 else "upstream inventory failed",
            "request_id": f"req-{i}",
            "status": 200 if i % 10 else 502,
        }
        for i in range(40)
    ]
    log = _write(tmp_path / "api.jsonl", [json.dumps(r) for r in records])
    result = _run([log], detectors=False)
    detection = result.summary["detection"]
    assert set(detection["signals"]) == {kind.value for kind in SignalKind}
    assert detection["signals"]["severity"] == 1
    assert detection["templates_with_signals"] == 1
    assert detection["sessions"] == 40
    assert detection["incidents"] == len(result.incidents) == 1
    assert detection["suppressed_as_noise"] == 0


def test_a_clean_logfmt_access_log_has_no_incidents(tmp_path: Path) -> None:
    lines = [
        f"time=2024-05-01T{_clock(i)}Z method=GET path=/api/orders/{i} status=200 dur={i + 3}ms"
        for i in range(30)
    ]
    assert _run([_write(tmp_path / "access.log", lines)]).incidents == []
