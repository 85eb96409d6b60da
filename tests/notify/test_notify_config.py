"""Configuration of targets (file, environment, shorthands, secrets from the environment), the
persisted de-duplication state and the token bucket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops_copilot.config import ConfigError, load_config
from aiops_copilot.notify.dedup import DedupState
from aiops_copilot.notify.notifier import Notifier
from aiops_copilot.notify.ratelimit import TokenBucket
from aiops_copilot.notify.settings import NotifySettings, redact_url
from aiops_copilot.notify.targets import resolve_targets
from notify.conftest import FAST
from notify.notify_helpers import Receiver, make_incident


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("AIOPS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return monkeypatch


def test_targets_from_the_file_and_the_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "aiops.toml").write_text(
        '[notify]\nmin_severity = "medium"\nburst = 3\n'
        '[[notify.targets]]\nname = "ops"\nkind = "slack"\n'
        'url = "https://hooks.slack.com/services/T0/B0/XYZ"\n'
        '[[notify.targets]]\nkind = "alertmanager"\nurl = "http://am.internal:9093"\n'
        'min_severity = "critical"\n',
        encoding="utf-8",
    )
    clean_env.setenv("AIOPS_NOTIFY__RATE_PER_MINUTE", "2")
    clean_env.setenv("AIOPS_NOTIFY__WEBHOOK_URL", "https://example.org/hook?token=abc")
    loaded = load_config()
    notify = loaded.settings.notify
    assert notify.burst == 3 and notify.rate_per_minute == 2.0
    assert loaded.origins["notify.rate_per_minute"] == "environment"
    targets, problems = resolve_targets(notify)
    assert problems == []
    assert [(t.name, t.kind, t.min_severity.value) for t in targets] == [
        ("ops", "slack", "medium"),
        ("alertmanager", "alertmanager", "critical"),
        ("webhook", "webhook", "medium"),
    ]
    assert targets[1].url == "http://am.internal:9093/api/v2/alerts"
    assert targets[2].url == "https://example.org/hook?token=abc"
    # Secrets stay out of everything printable.
    shown = repr(loaded.settings) + repr(targets) + " ".join(t.shown for t in targets)
    assert "XYZ" not in shown and "token=abc" not in shown
    assert "https://hooks.slack.com/…" in shown


def test_targets_as_json_in_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv(
        "AIOPS_NOTIFY__TARGETS",
        json.dumps([{"name": "a", "kind": "webhook", "url": "http://127.0.0.1:1/x"}]),
    )
    targets, _ = resolve_targets(load_config().settings.notify)
    assert [t.name for t in targets] == ["a"]
    clean_env.setenv("AIOPS_NOTIFY__TARGETS", json.dumps([{"kind": "pager"}]))
    with pytest.raises(ConfigError, match=r"notify\.targets\.0\.kind"):
        load_config()
    clean_env.setenv("AIOPS_NOTIFY__TARGETS", "not json")
    with pytest.raises(ConfigError, match="JSON list"):
        load_config()


def test_target_problems_leave_only_that_target_out() -> None:
    settings = NotifySettings.model_validate(
        {
            "targets": [
                {"kind": "slack", "url_env": "NO_SUCH_VARIABLE"},
                {"kind": "webhook"},
                {"kind": "webhook", "url": "ftp://files.example.org/x"},
                {
                    "kind": "webhook",
                    "url": "http://ok.example.org/x",
                    "headers_env": {"Authorization": "MISSING_TOKEN"},
                },
                {"kind": "webhook", "url": "http://ok.example.org/y"},
                {"kind": "webhook", "url_env": "HOOK_URL"},
            ]
        }
    )
    targets, problems = resolve_targets(settings, env={"HOOK_URL": "http://env.example.org/h"})
    assert [t.name for t in targets] == ["webhook-4", "webhook-5"]
    assert targets[1].url == "http://env.example.org/h"
    assert len(problems) == 4
    assert "NO_SUCH_VARIABLE is not set" in problems[0]
    assert "no url" in problems[1]
    assert "http:// or https://" in problems[2]
    assert "MISSING_TOKEN (header Authorization) is not set" in problems[3]


def test_headers_from_the_environment_are_sent(tmp_path: Path) -> None:
    from notify.notify_helpers import serve

    for receiver in serve(Receiver()):
        settings = NotifySettings.model_validate(
            {
                "targets": [
                    {
                        "kind": "webhook",
                        "url_env": "HOOK",
                        "headers": {"X-Team": "sre"},
                        "headers_env": {"Authorization": "HOOK_TOKEN"},
                    }
                ]
            }
        )
        env = {"HOOK": receiver.url("/in"), "HOOK_TOKEN": "Bearer s3cret"}
        targets, problems = resolve_targets(settings, env=env)
        assert problems == []
        with Notifier(targets, settings, state_file=None, backoff=FAST) as notifier:
            notifier.notify(make_incident(), "new")
        (request,) = receiver.wait_for(1)
        assert request.headers["Authorization"] == "Bearer s3cret"
        assert request.headers["X-Team"] == "sre"
        assert request.headers["User-Agent"].startswith("aiops-copilot/")
        assert "s3cret" not in repr(targets)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/…"),
        ("http://user:pw@am:9093/", "http://am:9093/…"),
        ("http://am:9093", "http://am:9093"),
        ("https://x.example/?token=1", "https://x.example/…"),
        ("http://[::1]:8080/hook", "http://[::1]:8080/…"),
        ("not a url", "(invalid URL)"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_dedup_state_persists_merges_and_survives_a_bad_file(tmp_path: Path) -> None:
    now = [1000.0]
    path = tmp_path / "state.json"
    first = DedupState(path, ttl_seconds=60, clock=lambda: now[0])
    second = DedupState(path, ttl_seconds=60, clock=lambda: now[0])
    key_a = ("t", "fp-a", "new", "")
    key_b = ("t", "fp-b", "new", "")
    assert first.claim(key_a)
    assert second.claim(key_b)  # merges with what the first wrote
    reread = DedupState(path, ttl_seconds=60, clock=lambda: now[0])
    assert not reread.claim(key_a) and not reread.claim(key_b)
    assert first.forget("fp-a") == ["t"]
    assert DedupState(path, ttl_seconds=60, clock=lambda: now[0]).claim(key_a)
    now[0] += 61  # expired entries are dropped on the next save
    assert DedupState(path, ttl_seconds=60, clock=lambda: now[0]).claim(key_b)
    assert [e["fingerprint"] for e in json.loads(path.read_text())["sent"]] == ["fp-b"]

    path.write_text("{not json", encoding="utf-8")
    complaints: list[str] = []
    broken = DedupState(path, ttl_seconds=60, warn=complaints.append)
    assert len(broken) == 0 and len(complaints) == 1 and "unreadable" in complaints[0]
    assert broken.claim(key_a)  # and the file is written afresh
    assert json.loads(path.read_text())["version"] == 1


def test_token_bucket_burst_then_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(3, rate_per_second=0.5, clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(2.0)
    now[0] += 2.0
    assert bucket.try_take() and not bucket.try_take()
    now[0] += 100.0  # never more than the capacity
    assert sum(bucket.try_take() for _ in range(10)) == 3
