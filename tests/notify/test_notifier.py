"""The notifier's decisions and delivery against a real local receiver: thresholds,
de-duplication (also across restarts), the rate limit, retries, a dead receiver, a full queue."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from aiops_copilot.models import IncidentStatus, Severity
from aiops_copilot.notify.delivery import Backoff, Poster, parse_retry_after
from aiops_copilot.notify.notifier import change_of
from notify.conftest import MakeNotifier
from notify.notify_helpers import T0, Receiver, free_port, history, make_incident, serve


def test_severity_threshold_default_high_and_per_target(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier(
        [
            {"name": "pager", "kind": "webhook", "url": receiver.url("/pager")},
            {
                "name": "chat",
                "kind": "webhook",
                "url": receiver.url("/chat"),
                "min_severity": "medium",
            },
        ]
    )
    assert notifier.notify(make_incident(1, severity=Severity.MEDIUM), "new") == 1
    assert notifier.notify(make_incident(2, severity=Severity.LOW), "new") == 0
    assert notifier.notify(make_incident(3, severity=Severity.CRITICAL), "new") == 2
    notifier.close()
    got = sorted((r.path, r.body["incident"]["id"]) for r in receiver.wait_for(3))
    assert got == [
        ("/chat", make_incident(1).id),
        ("/chat", make_incident(3).id),
        ("/pager", make_incident(3).id),
    ]


def test_updated_is_sent_only_to_targets_that_ask(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier(
        [
            {"name": "a", "kind": "webhook", "url": receiver.url("/a")},
            {
                "name": "b",
                "kind": "webhook",
                "url": receiver.url("/b"),
                "changes": ["new", "reopened", "updated"],
            },
        ]
    )
    assert notifier.notify(make_incident(), "updated") == 1
    notifier.close()
    assert [r.path for r in receiver.wait_for(1)] == ["/b"]
    with pytest.raises(ValueError, match="unknown change"):
        notifier.notify(make_incident(), "exploded")


def test_same_incident_twice_is_sent_once_and_reopened_again(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier([{"kind": "webhook", "url": receiver.url()}])
    incident = make_incident()
    assert notifier.notify(incident, "new") == 1
    assert notifier.notify(incident, "new") == 0
    reopened = make_incident(
        history=history(
            status=IncidentStatus.RECURRED, resolved=T0 + timedelta(days=1), last_seen=T0
        )
    )
    assert notifier.notify(reopened, "reopened") == 1
    assert notifier.notify(reopened, "reopened") == 0
    # Resolved again later and reopened again: news again.
    again = make_incident(
        history=history(
            status=IncidentStatus.RECURRED,
            resolved=T0 + timedelta(days=3),
            last_seen=T0 + timedelta(days=2),
        )
    )
    assert notifier.notify(again, "reopened") == 1
    notifier.close()
    time.sleep(0.2)  # nothing more may arrive
    assert [r.body["change"] for r in receiver.requests] == ["new", "reopened", "reopened"]


def test_dedup_state_survives_a_restart_and_resolve_clears_it(
    receiver: Receiver, make_notifier: MakeNotifier, tmp_path: Path
) -> None:
    target = [{"kind": "webhook", "url": receiver.url()}]
    incident = make_incident()
    first = make_notifier(target)
    assert first.notify(incident, "new") == 1
    first.close()
    assert (tmp_path / "notify-state.json").is_file()

    restarted = make_notifier(target)
    assert restarted.notify(incident, "new") == 0
    assert restarted.resolve(incident) == 1  # it was told, so it hears of the resolve
    assert restarted.notify(incident, "new") == 1  # forgotten after the resolve
    restarted.close()
    assert [r.body["change"] for r in receiver.wait_for(3)] == ["new", "resolved", "new"]

    # A short TTL lets the same news through again once it has passed.
    short = make_notifier(target, dedup_ttl_minutes=0.001, state_file=tmp_path / "short.json")
    assert short.notify(incident, "new") == 1
    time.sleep(0.1)
    assert short.notify(incident, "new") == 1


def test_rate_limit_sends_a_burst_then_one_summary(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier(
        [{"kind": "webhook", "url": receiver.url()}], burst=2, rate_per_minute=0.01
    )
    for number in range(1, 8):
        notifier.notify(make_incident(number), "new")
    notifier.close()
    bodies = [r.body for r in receiver.wait_for(3)]
    time.sleep(0.1)
    assert len(receiver.requests) == 3
    assert [b["event"] for b in bodies[:2]] == ["incident", "incident"]
    summary = bodies[2]
    assert summary["event"] == "suppressed"
    assert summary["count"] == 5
    assert summary["text"].startswith("5 more incidents not sent one by one")
    assert [i["id"] for i in summary["incidents"]] == [make_incident(n).id for n in range(3, 8)]
    assert notifier.stats["webhook"].rate_limited == 5


def test_rate_limit_summary_for_slack_names_the_count(
    receiver: Receiver, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier(
        [{"kind": "slack", "url": receiver.url()}], burst=1, rate_per_minute=0.01
    )
    for number in range(1, 5):
        notifier.notify(make_incident(number), "new")
    notifier.close()
    bodies = [r.body for r in receiver.wait_for(2)]
    assert bodies[1]["text"].startswith("3 more incidents not sent one by one")
    assert make_incident(4).id in bodies[1]["text"]


def test_a_failed_summary_forgets_the_held_incidents(
    make_notifier: MakeNotifier, warnings: list[str]
) -> None:
    for receiver in serve(Receiver(script=[200], default=500)):
        notifier = make_notifier(
            [{"kind": "webhook", "url": receiver.url()}], burst=1, rate_per_minute=0.01, attempts=1
        )
        for number in range(1, 4):
            notifier.notify(make_incident(number), "new")
        notifier.close()
        assert len(receiver.wait_for(2)) == 2
    assert len(notifier.dedup) == 1  # only the one delivered stays remembered
    assert len(warnings) == 1 and "summary of 2 held incident(s) not delivered" in warnings[0]


def test_500_then_200_is_retried_and_delivered(
    make_notifier: MakeNotifier, warnings: list[str]
) -> None:
    for receiver in serve(Receiver(script=[500, 503])):
        receiver.retry_after = "0"
        notifier = make_notifier([{"kind": "webhook", "url": receiver.url()}])
        notifier.notify(make_incident(), "new")
        notifier.close()
        requests = receiver.wait_for(3)
        assert len(requests) == 3
        assert requests[0].body == requests[2].body
        assert notifier.stats["webhook"].sent == 1
        assert notifier.stats["webhook"].last_status == 200
    assert warnings == []


def test_429_with_retry_after_is_honoured() -> None:
    for receiver in serve(Receiver(script=[429, 429], retry_after="7")):
        waits: list[float] = []
        poster = Poster(receiver.url(), attempts=3, backoff=Backoff(base=0.01), sleep=waits.append)
        result = poster.post({"hello": "world"})
        assert result.ok and result.status == 200 and result.attempts == 3
        assert waits == [7.0, 7.0]  # the receiver's wish, not the 0.01 s backoff
        assert [r.body for r in receiver.wait_for(3)] == [{"hello": "world"}] * 3
    # An HTTP date works too; an absurd wait is capped.
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert Backoff(cap=30).delay(1, retry_after=3600) == 30


def test_4xx_is_not_retried_and_warns_once(
    make_notifier: MakeNotifier, warnings: list[str]
) -> None:
    for receiver in serve(Receiver(default=404)):
        notifier = make_notifier([{"kind": "slack", "url": receiver.url("/services/SECRET")}])
        notifier.notify(make_incident(), "new")
        notifier.close()
        assert len(receiver.wait_for(1)) == 1
    assert len(warnings) == 1
    assert "HTTP 404: no_service" in warnings[0]
    assert "SECRET" not in warnings[0]


def test_receiver_down_is_one_warning_and_no_exception(
    make_notifier: MakeNotifier, warnings: list[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T0/B0/TOKEN"
    notifier = make_notifier([{"kind": "slack", "url": url}], attempts=2)
    incident = make_incident()
    assert notifier.notify(incident, "new") == 1
    notifier.close()
    assert len(warnings) == 1
    line = warnings[0]
    assert "\n" not in line
    assert incident.id in line and "not delivered" in line and "after 2 attempts" in line
    assert "TOKEN" not in line and "127.0.0.1" in line
    assert notifier.stats["slack"].failed == 1
    # A failed delivery is not remembered as sent: the next sighting tries again.
    assert len(notifier.dedup) == 0


def test_full_queue_drops_with_one_warning_and_never_blocks(
    make_notifier: MakeNotifier, warnings: list[str]
) -> None:
    gate = threading.Event()
    for receiver in serve(Receiver(gate=gate)):
        notifier = make_notifier(
            [{"kind": "webhook", "url": receiver.url()}], queue_size=1, burst=50
        )
        notifier.notify(make_incident(1), "new")
        deadline = time.monotonic() + 5
        while notifier._workers["webhook"]._queue.qsize() and time.monotonic() < deadline:
            time.sleep(0.01)  # the worker took the first one and is stuck in the receiver
        taken = [notifier.notify(make_incident(n), "new") for n in range(2, 12)]
        # Returned while the receiver still holds the first request: nothing waited on it.
        assert receiver.requests == [] and not gate.is_set()
        assert taken[0] == 1 and sum(taken) == 1
        assert notifier.stats["webhook"].dropped == 9
        assert sum("queue full" in w for w in warnings) == 1
        gate.set()
        notifier.close()
        assert len(receiver.wait_for(2)) == 2


def test_change_of_reads_the_store_history() -> None:
    assert change_of(make_incident()) == "new"
    resolved_after = history(
        status=IncidentStatus.RECURRED, resolved=T0 + timedelta(hours=1), last_seen=T0
    )
    assert change_of(make_incident(history=resolved_after)) == "reopened"
    # Seen again after the reopening: still recurred in the store, but no longer news.
    later = history(status=IncidentStatus.RECURRED, resolved=T0, last_seen=T0 + timedelta(hours=1))
    assert change_of(make_incident(history=later)) == "updated"
    # A database that returns times without a zone (they are UTC) is compared the same way.
    naive = history(
        status=IncidentStatus.RECURRED,
        resolved=(T0 + timedelta(hours=1)).replace(tzinfo=None),
        last_seen=T0,
    )
    assert change_of(make_incident(history=naive)) == "reopened"
    open_again = history(status=IncidentStatus.OPEN, resolved=None, last_seen=T0)
    assert change_of(make_incident(history=open_again)) == "updated"
