"""Each kind of target gets the body its receivers expect, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiops_copilot.models import Severity
from aiops_copilot.notify.events import Event
from aiops_copilot.notify.slack import incident_payload as slack_payload
from aiops_copilot.report.incidents_json import incident_to_dict
from notify.conftest import MakeNotifier
from notify.notify_helpers import Receiver, make_incident


def test_slack_message_has_text_and_blocks(receiver: Receiver, make_notifier: MakeNotifier) -> None:
    notifier = make_notifier([{"kind": "slack", "url": receiver.url("/services/T0/B0/x")}])
    incident = make_incident()
    assert notifier.notify(incident, "new") == 1
    notifier.close()
    (request,) = receiver.wait_for(1)
    assert request.path == "/services/T0/B0/x"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert set(body) == {"text", "blocks"}
    # The text alone is the whole message (Mattermost and Rocket.Chat show only it).
    assert body["text"].startswith("[HIGH] New incident: PostgreSQL: no free connection slots")
    assert "Root cause: All connection slots were in use" in body["text"]
    assert incident.id in body["text"]
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds[0] == "header" and kinds[-1] == "context"
    assert "section" in kinds
    fields = next(b["fields"] for b in body["blocks"] if "fields" in b)
    assert {"type": "mrkdwn", "text": "*Severity*\nhigh"} in fields
    assert any(
        "too many clients already" in b.get("text", {}).get("text", "") for b in body["blocks"]
    )


def test_slack_escapes_log_text_and_respects_limits() -> None:
    hostile = "<!channel> <https://evil|click> & " + "x" * 400
    incident = make_incident(title="T" * 400, line=hostile + " ```fence```")
    body = slack_payload(Event(incident, "new"), timedelta(hours=1))
    everything = str(body)
    assert "<!channel>" not in everything and "<https://evil" not in everything
    assert "&lt;!channel&gt;" in everything and "&amp;" in everything
    header = body["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    for block in body["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
            assert block["text"]["text"].count("```") in (0, 2)


def test_webhook_carries_the_incident_contract_and_change(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier([{"kind": "webhook", "url": receiver.url()}])
    incident = make_incident()
    notifier.notify(incident, "new")
    notifier.close()
    (request,) = receiver.wait_for(1)
    body = request.body
    assert body["version"] == 1
    assert body["event"] == "incident"
    assert body["change"] == "new"
    assert body["source"] == "aiops-copilot"
    datetime.fromisoformat(body["sent_at"])
    # Exactly one element of `aiops analyze --format json`'s incidents list.
    assert body["incident"] == incident_to_dict(incident)
    for key in (
        "id",
        "domain",
        "severity",
        "title",
        "root_cause",
        "remediation",
        "evidence",
        "confidence",
        "fingerprint",
        "first_seen",
        "last_seen",
    ):
        assert key in body["incident"]
    assert body["incident"]["domain"] == "database"


def test_alertmanager_alert_labels_annotations_and_times(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    # A server's base URL: the API v2 path is appended.
    notifier = make_notifier(
        [{"kind": "alertmanager", "url": receiver.url("/")}], dedup_ttl_minutes=60
    )
    incident = make_incident(severity=Severity.CRITICAL)
    before = datetime.now(UTC)
    notifier.notify(incident, "new")
    (request,) = receiver.wait_for(1)
    assert request.path == "/api/v2/alerts"
    (alert,) = request.body
    assert alert["labels"] == {
        "alertname": "PostgresqlTooManyClients",
        "severity": "critical",
        "domain": "database",
        "service": "postgres",
        "fingerprint": incident.fingerprint,
    }
    notes = alert["annotations"]
    assert notes["summary"] == "PostgreSQL: no free connection slots"
    assert "connection leak" in notes["description"]
    assert notes["runbook"].startswith("1. Find who holds the connections.")
    assert notes["runbook_url"].startswith("https://www.postgresql.org/")
    assert datetime.fromisoformat(alert["startsAt"]) == incident.first_seen
    ends = datetime.fromisoformat(alert["endsAt"])
    assert before + timedelta(minutes=59) < ends < before + timedelta(minutes=61)

    # Resolving sends the same labels with endsAt = now, so Alertmanager resolves it.
    assert notifier.resolve(incident) == 1
    requests = receiver.wait_for(2)
    (resolved,) = requests[1].body
    assert resolved["labels"] == alert["labels"]
    assert datetime.fromisoformat(resolved["endsAt"]) <= datetime.now(UTC)


def test_alertmanager_path_is_kept_when_given(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier([{"kind": "alertmanager", "url": receiver.url("/api/v2/alerts")}])
    notifier.notify(make_incident(), "new")
    notifier.close()
    assert [r.path for r in receiver.wait_for(1)] == ["/api/v2/alerts"]
