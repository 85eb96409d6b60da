"""Turning facts into prose: filling texts, sentences, and the words used when nothing fits.

The hypotheses files write ``{fact}`` where a value goes and ``[[ ... ]]`` around a phrase that
only makes sense when its facts are known; :func:`render` fills both, so one sentence serves a
diagnosis rich in facts and a bare one alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiops_copilot.agents.fixers.evidence import Evidence

_OPTIONAL = re.compile(r"\[\[(.+?)\]\]", re.DOTALL)
_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def is_set(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != [] and value != {}


def format_value(value: Any) -> str:
    """A fact as prose: lists joined (at most five), floats rounded, the rest as written."""
    if isinstance(value, list | tuple):
        shown = [format_value(v) for v in value[:5]]
        more = len(value) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"
    return str(value)


def render(text: str, facts: dict[str, Any], *, placeholder: bool = True) -> str:
    """Fill ``{fact}`` names; drop ``[[ ... ]]`` segments that name an unknown fact.

    A name outside any segment that is unknown becomes ``<name>`` (commands stay runnable
    templates) or, with ``placeholder=False``, is left out.
    """

    def optional(match: re.Match[str]) -> str:
        segment = match.group(1)
        names = _VARIABLE.findall(segment)
        if any(not is_set(facts.get(name)) for name in names):
            return ""
        return _VARIABLE.sub(lambda m: format_value(facts[m.group(1)]), segment)

    def required(match: re.Match[str]) -> str:
        value = facts.get(match.group(1))
        if is_set(value):
            return format_value(value)
        return f"<{match.group(1)}>" if placeholder else ""

    filled = _VARIABLE.sub(required, _OPTIONAL.sub(optional, text))
    return re.sub(r"[ \t]{2,}", " ", filled).replace(" ,", ",").replace("( ", "(").strip()


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    first = text.split(maxsplit=1)[0]
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


_ERRORISH = re.compile(
    r"error|fail|fatal|exception|refused|denied|timeout|timed out|panic|invalid|killed|"
    r"unavailable|cannot|could not|too many|exceeded|abort|crash",
    re.IGNORECASE,
)


def generic(ev: Evidence) -> str:
    """An evidence-based statement when no known problem fits: what failed, how often, where."""
    docs = sorted(ev.templates or ev.lines, key=lambda d: (not _ERRORISH.search(d.text), -d.weight))
    if not docs:
        return "No specific cause could be established: the incident carries no evidence lines."
    top = docs[0]
    message = " ".join(top.text.split())[:160]
    where = ""
    if top.ref is not None:
        where = f" (first cited at {top.ref.location})"
    others = len(docs) - 1
    rest = f", with {others} related message kind{'s' if others != 1 else ''}" if others else ""
    return (
        f"No known failure pattern matched. The dominant message is “{message}”, seen "
        f"{top.weight} time{'s' if top.weight != 1 else ''}{where}{rest}; start from the cited "
        "lines and the component that wrote them."
    )


def capital(text: str) -> str:
    """Capitalise a plain first word; leave names such as gRPC, evsec_bob or 127.0.0.1 alone."""
    words = text.split(maxsplit=1)
    if words and words[0].isalpha() and words[0].islower():
        return text[:1].upper() + text[1:]
    return text


def first_sentences(text: str, n: int) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return " ".join(sentences[:n])


def unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item and item.lower() not in {k.lower() for k in seen}:
            seen[item] = None
    return list(seen)


def plain_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as JSON-friendly values (str, int, float, bool, lists and dicts of those)."""

    def plain(value: Any) -> Any:
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [plain(v) for v in value]
        return str(value)

    return {k: plain(v) for k, v in facts.items()}
