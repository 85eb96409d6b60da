"""What a knowledge-base entry is, and the checks that keep entries honest.

An entry is data, not code: a signature (how to recognise an error in a log line) and a runbook
(what it means and what to do). Adding one needs no code. Validation is strict because a broken
regex or a typo in a domain would silently stop a fixer from ever seeing its evidence.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from aiops_copilot.models import Domain, Severity

EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)+$", max_length=80)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Match(BaseModel):
    """How an entry recognises a line: a regex, keywords, or both (then both must hold).

    ``regex`` is searched anywhere in the message (Python ``re`` syntax); ``ignore_case`` applies
    to it. ``keywords`` must all occur as whole words or phrases, case-insensitively ("thing"
    does not occur in "nothing"); they are what a template still contains after masking.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    regex: str | None = None
    ignore_case: bool = False
    keywords: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _needs_something(self) -> Match:
        if not self.regex and not self.keywords:
            raise ValueError("match needs a regex, keywords, or both")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        if self.regex is None:
            return None
        # MULTILINE: a folded record (a traceback) is several lines; ``^`` and ``$`` in a
        # signature mean the start and end of any of them, as they would in the raw file.
        flags = re.MULTILINE | (re.IGNORECASE if self.ignore_case else 0)
        return re.compile(self.regex, flags)

    @cached_property
    def keyword_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """(lowered keyword, whole-word pattern): a substring test first, the regex to confirm."""
        return tuple(
            (k.lower(), re.compile(r"(?<!\w)" + re.escape(k) + r"(?!\w)", re.IGNORECASE))
            for k in self.keywords
        )

    def matches(self, text: str) -> bool:
        if self.keywords:
            lowered = text.lower()
            for keyword, pattern in self.keyword_patterns:
                if keyword not in lowered or pattern.search(text) is None:
                    return False
        regex = self.pattern
        return regex is None or regex.search(text) is not None


class Entry(BaseModel):
    """One signature and its runbook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EntryId
    domain: Domain
    software: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.+-]*$")]
    title: Text
    severity: Severity
    match: Match
    examples: tuple[Text, ...] = Field(min_length=1)
    counter_examples: tuple[Text, ...] = ()
    root_cause: Text
    remediation: tuple[Text, ...] = Field(min_length=1)
    commands: tuple[Text, ...] = ()
    references: tuple[Annotated[str, StringConstraints(pattern=r"^https?://\S+$")], ...] = Field(
        min_length=1
    )
    tags: tuple[Text, ...] = ()

    def matches(self, text: str) -> bool:
        return self.match.matches(text)

    def self_check(self) -> list[str]:
        """Problems with the entry's own examples (empty when it recognises them correctly)."""
        problems = [
            f"example does not match: {line[:120]!r}"
            for line in self.examples
            if not self.matches(line)
        ]
        problems += [
            f"counter-example matches: {line[:120]!r}"
            for line in self.counter_examples
            if self.matches(line)
        ]
        return problems
