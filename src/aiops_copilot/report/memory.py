"""How every report shows what memory recalled: runbook passages and similar past incidents.

One wording for the terminal, Markdown and HTML reports (the JSON contract has its own keys):
a passage is its heading path, where it comes from and its similarity; a past incident is its
title, when it was last seen and how it was resolved, if anyone said.
"""

from __future__ import annotations

from pathlib import PurePath

from aiops_copilot.models import RunbookPassage, SimilarIncident

#: Characters of a passage's text shown under its title.
EXCERPT_CHARS = 280


def passage_source(passage: RunbookPassage) -> str:
    """``postgres.md:42`` for a team runbook, ``knowledge base <id>`` for an entry."""
    if passage.entry_id:
        return f"knowledge base {passage.entry_id}"
    name = PurePath(passage.source).name or passage.source
    return f"{name}:{passage.line}" if passage.line else name


def passage_line(passage: RunbookPassage) -> str:
    return f"{passage.title} — {passage_source(passage)} (similarity {passage.score:.2f})"


def excerpt(passage: RunbookPassage, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(passage.text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def similar_line(similar: SimilarIncident) -> str:
    seen = ""
    if similar.last_seen is not None:
        seen = f", last seen {similar.last_seen:%Y-%m-%d}"
        if similar.times_seen > 1:
            seen += f" ({similar.times_seen} times)"
    resolved = f"; resolved by: {similar.resolution}" if similar.resolution else ""
    return f"{similar.title} (similarity {similar.score:.2f}{seen}){resolved}"
