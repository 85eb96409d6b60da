"""From the ``[notify]`` settings to the concrete targets a notifier posts to.

Resolution happens once, up front, so a missing environment variable or a malformed URL is one
clear problem at start-up rather than a failure at 3 a.m. when the first incident arrives.
A target with a problem is left out; the others still work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiops_copilot.models import Severity
from aiops_copilot.notify.settings import NotifySettings, NotifyTarget, redact_url

#: Where Alertmanager takes alerts (API v2); appended when a target names only the server.
ALERTMANAGER_PATH = "/api/v2/alerts"


@dataclass(frozen=True)
class Target:
    """One receiver, ready to post to. ``url`` and ``headers`` stay out of ``repr``."""

    name: str
    kind: str
    url: str = field(repr=False)
    min_severity: Severity = Severity.HIGH
    changes: frozenset[str] = frozenset({"new", "reopened"})
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def shown(self) -> str:
        """``ops (slack, https://hooks.slack.com/…)``: safe to print and log."""
        return f"{self.name} ({self.kind}, {redact_url(self.url)})"

    def wants(self, severity: Severity, change: str) -> bool:
        return severity.rank >= self.min_severity.rank and change in self.changes


def endpoint(kind: str, url: str) -> str:
    """The URL to POST to: an Alertmanager server's base URL gets ``/api/v2/alerts``."""
    url = url.strip()
    if kind != "alertmanager":
        return url
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith(ALERTMANAGER_PATH):
        return url
    return parts._replace(path=path + ALERTMANAGER_PATH).geturl()


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be posted to, or ``None`` when it looks usable."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port
    except ValueError:
        return "the URL is malformed"
    if parts.scheme not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not parts.hostname:
        return "the URL has no host"
    return None


def resolve_targets(
    settings: NotifySettings, env: Mapping[str, str] | None = None
) -> tuple[list[Target], list[str]]:
    """The usable targets, and one line per problem (for a warning or an error)."""
    env = os.environ if env is None else env
    declared = list(settings.targets)
    for kind, shorthand in (
        ("slack", settings.slack_url),
        ("webhook", settings.webhook_url),
        ("alertmanager", settings.alertmanager_url),
    ):
        if shorthand is not None:
            declared.append(NotifyTarget.model_validate({"kind": kind, "url": shorthand}))
    targets: list[Target] = []
    problems: list[str] = []
    taken: set[str] = set()
    for number, spec in enumerate(declared, start=1):
        name = _unique(spec.name or spec.kind, taken)
        target, problem = _resolve(spec, name, settings, env)
        if problem is not None:
            problems.append(f"notify target {name!r} (#{number}): {problem}; left out")
        elif target is not None:
            targets.append(target)
    return targets, problems


def _resolve(
    spec: NotifyTarget, name: str, settings: NotifySettings, env: Mapping[str, str]
) -> tuple[Target | None, str | None]:
    url = _url(spec, env)
    if url is None:
        if spec.url_env:
            return None, f"environment variable {spec.url_env} is not set"
        return None, "no url (set url or url_env)"
    problem = check_url(url)
    if problem is not None:
        return None, problem
    headers = dict(spec.headers)
    for header, variable in spec.headers_env.items():
        value = env.get(variable)
        if not value:
            return None, f"environment variable {variable} (header {header}) is not set"
        headers[header] = value
    threshold = Severity(spec.min_severity or settings.min_severity)
    target = Target(
        name=name,
        kind=spec.kind,
        url=endpoint(spec.kind, url),
        min_severity=threshold,
        changes=frozenset(spec.changes),
        headers=headers,
    )
    return target, None


def _url(spec: NotifyTarget, env: Mapping[str, str]) -> str | None:
    if spec.url is not None:
        value = spec.url.get_secret_value().strip()
        return value or None
    if spec.url_env:
        return env.get(spec.url_env, "").strip() or None
    return None


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    taken.add(candidate)
    return candidate


def ad_hoc(kind: str, url: str, min_severity: Severity = Severity.INFO) -> Target:
    """A target named on the command line (``aiops notify test --url``)."""
    return Target(
        name=kind,
        kind=kind,
        url=endpoint(kind, url),
        min_severity=min_severity,
        changes=frozenset({"new", "reopened", "updated"}),
    )
