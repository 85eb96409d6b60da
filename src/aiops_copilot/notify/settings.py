"""The ``[notify]`` section of the configuration: where notifications go and how often.

Kept here rather than in ``config.py`` so the notifier's knobs live beside the code that reads
them; ``config.py`` only mounts the section. This module imports nothing but pydantic, because
every command loads the configuration and most of them never notify.

Webhook URLs carry their credentials in the path (Slack, Mattermost, Teams), so every URL is a
:class:`SecretUrl`: ``aiops config show``, logs and warnings show only scheme and host.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Kind = Literal["slack", "webhook", "alertmanager"]
KINDS: tuple[str, ...] = ("slack", "webhook", "alertmanager")
SeverityName = Literal["critical", "high", "medium", "low", "info"]
Change = Literal["new", "reopened", "updated"]
DEFAULT_CHANGES: tuple[Change, ...] = ("new", "reopened")


def redact_url(url: str) -> str:
    """``https://hooks.slack.com/…``: scheme, host and port only; user, path and query hidden.

    What a person needs to tell targets apart, and nothing an eavesdropper on a log could
    post with."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    if not parts.scheme or not host:
        return "(invalid URL)"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    hidden = parts.path not in ("", "/") or parts.query or parts.username
    return f"{parts.scheme}://{host}{port}{'/…' if hidden else ''}"


class SecretUrl(SecretStr):
    """A URL whose token must not be printed: shown as :func:`redact_url` gives it."""

    def _display(self) -> str:
        return redact_url(self.get_secret_value())


class NotifyTarget(BaseModel):
    """One receiver. ``url`` or ``url_env`` (the name of a variable holding the URL) is needed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="shown in messages; default: the kind")
    kind: Kind = Field(description="slack (incoming webhook), webhook (JSON) or alertmanager")
    url: SecretUrl | None = Field(None, description="where to POST (its token is never shown)")
    url_env: str | None = Field(None, description="read the URL from this environment variable")
    min_severity: SeverityName | None = Field(
        None, description="send incidents this severe or worse (default: notify.min_severity)"
    )
    changes: list[Change] = Field(
        default_factory=lambda: list(DEFAULT_CHANGES),
        description="which changes are sent: new, reopened, updated",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers")
    headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="header name -> environment variable holding its value (tokens)",
    )


class NotifySettings(BaseModel):
    """Targets plus the delivery policy every target shares."""

    model_config = ConfigDict(extra="forbid")

    targets: list[NotifyTarget] = Field(default_factory=list, description="where to send")
    slack_url: SecretUrl | None = Field(None, description="shorthand for one slack target")
    webhook_url: SecretUrl | None = Field(None, description="shorthand for one webhook target")
    alertmanager_url: SecretUrl | None = Field(
        None, description="shorthand for one alertmanager target"
    )
    min_severity: SeverityName = Field("high", description="default threshold of every target")
    dedup_ttl_minutes: float = Field(
        720.0, gt=0, le=525_600, description="the same incident and change is not re-sent within"
    )
    rate_per_minute: float = Field(
        6.0, gt=0, le=6000, description="sustained messages a minute per target"
    )
    burst: int = Field(5, ge=1, le=1000, description="messages a target may get at once")
    timeout: float = Field(10.0, gt=0, le=300, description="seconds per HTTP attempt")
    attempts: int = Field(3, ge=1, le=10, description="tries on 429, 5xx or no connection")
    queue_size: int = Field(100, ge=1, le=100_000, description="pending messages per target")
    state_file: Path | None = Field(
        None, description="de-duplication state (default: notify-state.json beside the database)"
    )

    @field_validator("targets", mode="before")
    @classmethod
    def _targets_from_json(cls, value: Any) -> Any:
        """``AIOPS_NOTIFY__TARGETS='[{"kind": "slack", "url": "..."}]'`` arrives as a string."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("targets must be a JSON list of tables") from None
        return value
