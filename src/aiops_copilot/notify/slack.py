"""Slack incoming-webhook messages (Mattermost and Rocket.Chat accept the same JSON).

``text`` is a complete plain message on its own: Slack shows it in notifications and as the
fallback, Mattermost and Rocket.Chat show only it (they ignore ``blocks``). ``blocks`` is the
richer Slack layout: a header, the root cause, a fact table, first steps and evidence. Limits
from Slack's Block Kit reference are respected (header 150 characters, text 3000, field 2000,
10 fields), and ``&``, ``<``, ``>`` are escaped as Slack requires so log lines cannot inject
mentions or links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiops_copilot.notify import messages
from aiops_copilot.notify.events import Event
from aiops_copilot.report.view import title_of

HEADER_LIMIT = 150
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
SUMMARY_LINES = 20


def escape(text: str) -> str:
    """Slack's three control characters, as its message-formatting guide asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(lines: Sequence[str]) -> str:
    """A code block whose content cannot close it early."""
    body = "\n".join(line.replace("```", "'''") for line in lines)
    return f"```{body}```"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": messages.clip(text, TEXT_LIMIT)}}


def plain_text(event: Event) -> str:
    """The whole message as plain lines: what Mattermost, Rocket.Chat and a phone show."""
    incident = event.incident
    lines = [messages.headline(event)]
    fixed = messages.resolution(event)
    if fixed:
        lines.append(f"Fixed: {fixed}")
    cause = messages.root_cause(incident)
    if cause:
        lines.append(f"Root cause: {cause}")
    lines.append(" · ".join(f"{label}: {value}" for label, value in messages.facts(incident)))
    steps = messages.remediation(incident, 1)
    if steps:
        lines.append(f"First step: {steps[0]}")
    lines.append(f"{incident.id} · fingerprint {incident.fingerprint}")
    return messages.clip(escape("\n".join(lines)), TEXT_LIMIT)


def incident_payload(event: Event, hold: timedelta) -> dict[str, Any]:
    """One incident as ``{"text", "blocks"}``."""
    del hold  # chat messages do not expire
    incident = event.incident
    header = f"{incident.severity.value.upper()} · {title_of(incident)}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": messages.clip(header, HEADER_LIMIT)},
        },
        _section(f"*{escape(messages.headline(event))}*"),
    ]
    fixed = messages.resolution(event)
    if fixed:
        blocks.append(_section(f"*Fixed:* {escape(fixed)}"))
    cause = messages.root_cause(incident)
    if cause:
        blocks.append(_section(f"*Root cause:* {escape(cause)}"))
    fields = [
        {"type": "mrkdwn", "text": messages.clip(f"*{label}*\n{escape(value)}", FIELD_LIMIT)}
        for label, value in messages.facts(incident)[:10]
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    steps = messages.remediation(incident)
    if steps:
        numbered = "\n".join(f"{n}. {escape(step)}" for n, step in enumerate(steps, start=1))
        blocks.append(_section(f"*First steps:*\n{numbered}"))
    evidence = messages.evidence(incident)
    if evidence:
        blocks.append(_section(f"*Evidence:*\n{_code([escape(line) for line in evidence])}"))
    context = f"{incident.id} · fingerprint `{incident.fingerprint}` · {messages.PRODUCT}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(context)}]})
    return {"text": plain_text(event), "blocks": blocks}


def summary_payload(events: Sequence[Event], more: int, hold: timedelta) -> dict[str, Any]:
    """The incidents the rate limit held back, as one message."""
    del hold
    headline = messages.summary_headline(events, more)
    listed = [escape(messages.brief(event)) for event in events[:SUMMARY_LINES]]
    hidden = len(events) - len(listed) + more
    if hidden > 0:
        listed.append(f"… and {hidden} more")
    text = messages.clip(escape(headline) + "\n" + "\n".join(listed), TEXT_LIMIT)
    blocks = [_section(f"*{escape(headline)}*"), _section("\n".join(listed))]
    return {"text": text, "blocks": blocks}
