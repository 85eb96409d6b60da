"""Prompts from files: ``prompts/system.j2`` for every request, ``prompts/<domain>.j2`` per fixer.

Why files: what a model is told is knowledge, like the knowledge base -- it is tuned by reading
answers, not by changing code, and a reviewer should see it whole. Jinja's ``StrictUndefined``
turns a typo in a template into an error at the first render instead of a silently empty
prompt; autoescaping is off because the output is plain text for a model, not HTML.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from aiops_copilot.llm.evidence_pack import EvidencePack
from aiops_copilot.models import Domain

__all__ = ["PROMPTS", "SECTIONS", "PromptBook"]

PROMPTS = Path(__file__).with_name("prompts")

#: Section titles in the order the pack is laid out (most telling first).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("The analyser's diagnosis", "diagnosis"),
    ("Its hypotheses", "hypotheses"),
    ("Knowledge base", "knowledge"),
    ("Log templates", "templates"),
    ("Log lines", "lines"),
    ("Context before the first error", "context"),
    ("Similar past incidents", "similar"),
    ("Runbook passages", "runbooks"),
)


class PromptBook:
    """Renders the system prompt, one incident's prompt, and the retry note."""

    def __init__(self, folder: Path = PROMPTS) -> None:
        self.folder = folder
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=False,
        )

    def system(self) -> str:
        return self._render("system.j2")

    def incident(self, pack: EvidencePack) -> str:
        """The user prompt for a pack, with its domain's guidance."""
        name = f"{pack.domain}.j2"
        if pack.domain not in {d.value for d in Domain}:
            name = "application.j2"
        return self._render(name, pack=pack, sections=SECTIONS)

    def retry(self, reason: str, pack: EvidencePack) -> str:
        return self._render("retry.j2", reason=reason, ids=sorted(pack.ids), anchor=pack.anchor)

    def messages(self, pack: EvidencePack) -> list[dict[str, str]]:
        """The chat messages for one incident: the shared system prompt, then the pack."""
        return [
            {"role": "system", "content": self.system()},
            {"role": "user", "content": self.incident(pack)},
        ]

    def _render(self, name: str, **values: Any) -> str:
        return _strip(self._env.get_template(name).render(**values))


@lru_cache(maxsize=4)
def shipped_book() -> PromptBook:
    return PromptBook()


def _strip(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue  # one blank line between sections is enough
        out.append(line)
    return "\n".join(out) + "\n"
