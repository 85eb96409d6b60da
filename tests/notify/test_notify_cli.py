"""``aiops notify test`` and ``aiops analyze --notify`` as a user runs them: real processes
posting to a real receiver."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from notify.notify_helpers import Receiver, free_port, serve

# The root conftest's run_cli (its CliResult is not imported: several folders have a conftest).
RunCli = Callable[..., Any]
POSTGRES_LOG = Path(__file__).parents[2] / "examples" / "postgres" / "postgresql-15-main.log"


def test_notify_test_with_a_url(run_cli: RunCli, receiver: Receiver) -> None:
    result = run_cli("notify", "test", "--url", receiver.url("/hook/SECRET"), "--kind", "webhook")
    assert result.code == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"webhook (webhook, http://127.0.0.1:{receiver.port}/…): HTTP 200 ok")
    assert "SECRET" not in result.stdout + result.stderr
    (request,) = receiver.wait_for(1)
    body = request.body
    assert body["change"] == "test"
    assert body["incident"]["title"].startswith("[test] ")
    assert body["incident"]["domain"] == "database"
    assert body["incident"]["evidence"]  # a real analysis, with its evidence lines


def test_notify_test_configured_targets_and_one_by_name(
    run_cli: RunCli, receiver: Receiver
) -> None:
    targets = [
        {"name": "chat", "kind": "slack", "url": receiver.url("/slack")},
        {"name": "am", "kind": "alertmanager", "url": receiver.url("/")},
    ]
    env = {"AIOPS_NOTIFY__TARGETS": json.dumps(targets)}
    result = run_cli("notify", "test", "--target", "am", env=env)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("am (alertmanager, ")
    (request,) = receiver.wait_for(1)
    assert request.path == "/api/v2/alerts"
    (alert,) = request.body
    assert alert["labels"]["test"] == "true"
    assert alert["labels"]["alertname"] == "AiopsTestNotification"

    result = run_cli("notify", "test", env=env)
    assert result.code == 0, result.stderr
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == ["chat", "am"]
    paths = [r.path for r in receiver.wait_for(3)]
    assert sorted(paths[1:]) == ["/api/v2/alerts", "/slack"]
    slack_body = next(r.body for r in receiver.requests if r.path == "/slack")
    assert slack_body["text"].startswith("[HIGH] Test notification: [test] PostgreSQL")


def test_notify_test_reports_failures_with_exit_1(run_cli: RunCli) -> None:
    for receiver in serve(Receiver(default=500)):
        env = {
            "AIOPS_NOTIFY__SLACK_URL": receiver.url("/x"),
            "AIOPS_NOTIFY__ATTEMPTS": "2",
            "AIOPS_NOTIFY__WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/y",
        }
        result = run_cli("notify", "test", env=env)
        assert result.code == 1
        lines = result.stdout.splitlines()
        assert lines[0].startswith("slack (slack, ") and "failed: HTTP 500" in lines[0]
        assert "(after 2 attempts)" in lines[0]
        assert lines[1].startswith("webhook (webhook, ") and "unreachable" in lines[1]
        assert len(receiver.wait_for(2)) == 2
        assert "Traceback" not in result.stderr


def test_notify_test_usage_errors(run_cli: RunCli) -> None:
    cases = [
        ((), "no notification targets configured"),
        (("--url", "http://127.0.0.1:1/x"), "--url needs --kind"),
        (("--url", "ftp://x/y", "--kind", "slack"), "http:// or https://"),
        (("--url", "http://127.0.0.1:1/x", "--kind", "sms"), "--kind must be one of"),
        (("--target", "nope"), "no notify target named 'nope'"),
    ]
    for args, message in cases:
        result = run_cli("notify", "test", *args)
        assert result.code == 2, (args, result.stderr)
        assert result.stderr.startswith("aiops: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1


def test_analyze_notify_sends_new_incidents_once(run_cli: RunCli, receiver: Receiver) -> None:
    env = {"AIOPS_NOTIFY__WEBHOOK_URL": receiver.url("/hook")}
    args = ("analyze", "--notify", "--no-memory", "--format", "json", str(POSTGRES_LOG))
    first = run_cli(*args, env=env)
    assert first.code == 1, first.stderr  # a high incident: --fail-on high
    report = json.loads(first.stdout)
    (request,) = receiver.wait_for(1)
    assert request.body["change"] == "new"
    assert request.body["incident"]["id"] == report["incidents"][0]["id"]
    assert request.body["incident"]["severity"] == "high"

    second = run_cli(*args, env=env)  # the same logs again: stored before, not news
    assert second.code == 1, second.stderr
    assert len(receiver.requests) == 1


def test_analyze_notify_without_targets_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli("analyze", "--notify", "--no-store", str(POSTGRES_LOG))
    assert result.code == 2
    assert result.stderr.startswith("aiops: error: --notify: no notification targets")


def test_config_show_hides_webhook_tokens(run_cli: RunCli) -> None:
    env = {"AIOPS_NOTIFY__SLACK_URL": "https://hooks.slack.com/services/T0/B0/TOKEN123"}
    for args in (("config", "show"), ("config", "show", "--json")):
        result = run_cli(*args, env=env)
        assert result.code == 0, result.stderr
        assert "notify.slack_url" in result.stdout
        assert "TOKEN123" not in result.stdout
