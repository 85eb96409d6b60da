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
APP_LOG = Path(__file__).parents[2] / "examples" / "app" / "checkout.log"


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


def test_resolving_an_incident_tells_the_targets_that_were_paged(
    run_cli: RunCli, receiver: Receiver
) -> None:
    """``aiops incidents resolve`` ends the Alertmanager alert (same labels, endsAt now) and
    tells the chat what fixed it; only targets that were told hear of it, and only once."""
    targets = [
        {"name": "chat", "kind": "slack", "url": receiver.url("/slack")},
        {"name": "am", "kind": "alertmanager", "url": receiver.url("/")},
    ]
    env = {"AIOPS_NOTIFY__TARGETS": json.dumps(targets)}
    analysed = run_cli(
        "analyze", "--notify", "--no-memory", "--format", "json", str(POSTGRES_LOG), env=env
    )
    assert analysed.code == 1, analysed.stderr
    incident = json.loads(analysed.stdout)["incidents"][0]
    paged = receiver.wait_for(2)
    firing = next(r.body[0] for r in paged if r.path == "/api/v2/alerts")

    note = "raised max_connections to 200 and fixed the pool leak in checkout"
    resolved = run_cli("incidents", "resolve", incident["id"][:8], "--note", note, env=env)
    assert resolved.code == 0, resolved.stderr
    assert "told 2 notify target(s) it is resolved" in resolved.stdout
    later = receiver.wait_for(4)[2:]
    alert = next(r.body[0] for r in later if r.path == "/api/v2/alerts")
    assert alert["labels"] == firing["labels"]  # Alertmanager's identity of the alert
    assert alert["annotations"]["resolution"] == note
    assert alert["endsAt"] < firing["endsAt"]  # ends now, not after the hold
    chat = next(r.body for r in later if r.path == "/slack")
    assert chat["text"].startswith("[HIGH] Resolved: PostgreSQL")
    assert f"Fixed: {note}" in chat["text"]

    again = run_cli("incidents", "resolve", incident["id"], "--note", note, env=env)
    assert again.code == 0 and "told" not in again.stdout  # nobody is waiting to hear it
    assert len(receiver.requests) == 4


def test_resolving_with_no_notify_or_without_a_page_sends_nothing(
    run_cli: RunCli, receiver: Receiver
) -> None:
    env = {"AIOPS_NOTIFY__WEBHOOK_URL": receiver.url("/hook")}
    args = ("analyze", "--notify", "--no-memory", "--format", "json", str(POSTGRES_LOG))
    incident = json.loads(run_cli(*args, env=env).stdout)["incidents"][0]
    receiver.wait_for(1)
    skipped = run_cli(
        "incidents", "resolve", incident["id"], "--note", "restarted", "--no-notify", env=env
    )
    assert skipped.code == 0, skipped.stderr
    assert "told" not in skipped.stdout
    told = run_cli("incidents", "resolve", incident["id"], "--note", "restarted", env=env)
    assert "told 1 notify target(s) it is resolved" in told.stdout, told.stderr
    (_, request) = receiver.wait_for(2)
    assert request.body["change"] == "resolved"
    assert request.body["incident"]["id"] == incident["id"]
    assert request.body["incident"]["history"]["last_resolution_note"] == "restarted"

    unpaged = run_cli("analyze", "--no-memory", "--format", "json", str(APP_LOG), env=env)
    other = json.loads(unpaged.stdout)["incidents"][0]
    quiet = run_cli("incidents", "resolve", other["id"], "--note", "fixed", env=env)
    assert quiet.code == 0 and "told" not in quiet.stdout  # it never paged anyone
    assert len(receiver.requests) == 2
