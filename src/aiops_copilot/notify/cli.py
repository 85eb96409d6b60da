"""``aiops notify test``: does a target accept our messages? One sample incident, each target's
HTTP status, exit 1 when any target failed.

The sample is sent synchronously, past de-duplication and the rate limit (a test that is
silently de-duplicated tests nothing), and it is marked as a test in every kind of message.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from aiops_copilot.config import Settings
    from aiops_copilot.notify.targets import Target

notify_app = typer.Typer(
    help="Notifications to Slack-compatible webhooks, JSON webhooks and Alertmanager.",
    no_args_is_help=True,
)

KIND_HELP = "slack (incoming webhook; Mattermost, Rocket.Chat), webhook (JSON) or alertmanager"


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)


def _settings() -> Settings:
    from aiops_copilot.cli import _load

    return _load({}).settings


@notify_app.command("test")
def notify_test(
    target: Annotated[
        str | None, typer.Option("--target", help="Only the configured target of this name.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Send to this URL instead of the configured targets."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=f"With --url: {KIND_HELP}.")] = None,
) -> None:
    """Send a sample incident to each target and print the HTTP status each one answered."""
    from aiops_copilot.notify.settings import KINDS
    from aiops_copilot.notify.targets import ad_hoc, check_url, resolve_targets

    if url is not None and target is not None:
        _fail("--url and --target contradict each other")
    if kind is not None and kind not in KINDS:
        _fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    settings = _settings()
    if url is not None:
        if kind is None:
            _fail(f"--url needs --kind: {KIND_HELP}")
        problem = check_url(url)
        if problem is not None:
            _fail(f"--url: {problem}")
        targets = [ad_hoc(kind, url)]
    else:
        if kind is not None:
            _fail("--kind goes with --url")
        targets, problems = resolve_targets(settings.notify)
        for line in problems:
            sys.stderr.write(f"aiops: warning: {line}\n")
        if target is not None:
            chosen = [t for t in targets if t.name == target]
            if not chosen:
                known = ", ".join(t.name for t in targets) or "none usable"
                _fail(f"no notify target named {target!r} (configured: {known})")
            targets = chosen
        if not targets:
            _fail(
                "no notification targets configured: add [[notify.targets]] to aiops.toml, "
                "set AIOPS_NOTIFY__SLACK_URL (or _WEBHOOK_URL, _ALERTMANAGER_URL), "
                "or pass --url URL --kind KIND"
            )
    raise typer.Exit(_send_tests(targets, settings))


def _send_tests(targets: list[Target], settings: Settings) -> int:
    from datetime import timedelta

    from aiops_copilot.notify.delivery import Poster
    from aiops_copilot.notify.events import Event
    from aiops_copilot.notify.payloads import incident_body
    from aiops_copilot.notify.sample import sample_incident

    try:
        incident = sample_incident()
    except (OSError, RuntimeError, ValueError) as exc:
        _fail(f"cannot build the sample incident: {exc}")
    event = Event(incident, "test")
    hold = timedelta(minutes=settings.notify.dedup_ttl_minutes)
    failures = 0
    for one in targets:
        poster = Poster(
            one.url,
            headers=one.headers,
            timeout=settings.notify.timeout,
            attempts=settings.notify.attempts,
        )
        started = time.monotonic()
        result = poster.post(incident_body(one.kind, event, hold))
        took = time.monotonic() - started
        if result.ok:
            typer.echo(f"{one.shown}: HTTP {result.status} ok ({took:.2f} s)")
        else:
            failures += 1
            typer.echo(f"{one.shown}: failed: {result.error}")
    return 1 if failures else 0


def require_targets(settings: Settings) -> None:
    """``aiops analyze --notify`` with nowhere to send is a usage error, said before the run."""
    from aiops_copilot.notify.targets import resolve_targets

    targets, problems = resolve_targets(settings.notify)
    if not targets:
        reason = problems[0] if problems else "no notification targets configured"
        _fail(f"--notify: {reason} (see aiops notify test)")
