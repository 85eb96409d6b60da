"""What a knowledge-base entry is, and the checks that keep entries honest.

An entry is data, not code: a signature (how to recognise an error in a log line) and a runbook
(what it means and what to do). Adding one needs no code. Validation is strict because a broken
regex or a typo in a domain would silently stop a fixer from ever seeing its evidence.
"""

from __future__ import annotations

import importlib
import re
from functools import cached_property
from typing import Annotated, Any

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


def compiling_regex(value: str | None) -> str | None:
    """``value`` unchanged when it is None or a regex Python compiles; else a one-line
    ``ValueError`` (what a pydantic field validator raises).

    Why here: every data file with a regex in it (knowledge entries, noise rules) must fail at
    load time, naming the file, rather than at the first line it is tried on; and this module
    is already loaded by every reader of such files, so sharing it costs no import."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from None
    return value


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
        return compiling_regex(value)

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

    @cached_property
    def literals(self) -> tuple[str, ...]:
        """Lower-cased texts of which every match of ``regex`` contains at least one (``()``
        when none is known).

        Why: most signatures cannot match most messages, and the cheapest way to say so is a
        substring test -- no compiled regex needed, so a run compiles only the regexes whose
        literals it meets (compiling all of them costs more than the matching itself). Worked
        out once from the regex's parse tree and kept in the knowledge-base cache."""
        return required_literals(self.regex) if self.regex else ()

    def matches(self, text: str, lowered: str | None = None) -> bool:
        """Whether ``text`` is recognised; ``lowered`` is ``text.lower()`` when the caller
        tries many entries on one text (worked out here otherwise)."""
        if self.keywords or self.literals:
            lowered = text.lower() if lowered is None else lowered
        if self.keywords:
            assert lowered is not None
            for keyword, pattern in self.keyword_patterns:
                if keyword not in lowered or pattern.search(text) is None:
                    return False
        # Case folding beyond ASCII (the Kelvin sign matches "k" under IGNORECASE) is left to
        # the regex: the shortcut only rules out ASCII text.
        literals = self.literals
        if (
            literals
            and lowered is not None
            and text.isascii()
            and not any(literal in lowered for literal in literals)
        ):
            return False
        regex = self.pattern
        return regex is None or regex.search(text) is not None


#: Shorter required texts filter too little to be worth a test.
_MIN_LITERAL = 3


def required_literals(regex: str, flags: int = 0) -> tuple[str, ...]:
    """Lower-cased texts of which any match of ``regex`` contains at least one: a run of plain
    characters the regex cannot do without, or one such run per branch of an alternation.
    ``()`` when there is no such set (then the regex alone decides, as always). ``flags`` are
    the ones the regex is compiled with (``re.VERBOSE`` changes what is a literal)."""
    try:
        # The parser behind re.compile (``sre_parse`` before 3.11), private but long stable.
        _parser = importlib.import_module("re._parser")
        parsed = _parser.parse(regex, re.MULTILINE | flags)
    except Exception:
        return ()
    best = _best(_candidates(parsed, _parser))
    return tuple(text.lower() for text in best) if best else ()


def _candidates(sequence: Any, parser: Any) -> list[tuple[str, ...]]:
    """Sets of texts, each set holding one that every match of ``sequence`` contains."""
    found: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, value in sequence:
        if op is parser.LITERAL:
            run.append(chr(value))
            continue
        if run:
            found.append(("".join(run),))
            run = []
        if op is parser.SUBPATTERN:
            found += _candidates(value[-1], parser)
        elif op in (parser.MAX_REPEAT, parser.MIN_REPEAT) and value[0] >= 1:
            found += _candidates(value[2], parser)
        elif op is parser.BRANCH:
            options: list[str] = []
            for branch in value[1]:
                best = _best(_candidates(branch, parser))
                if best is None:
                    break
                options.extend(best)
            else:
                found.append(tuple(options))
    if run:
        found.append(("".join(run),))
    return found


def _best(candidates: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The most selective usable set: its shortest text longest, then the fewest texts."""
    usable = [c for c in candidates if c and all(len(t) >= _MIN_LITERAL and t.isascii() for t in c)]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(t) for t in c), -len(c)))


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

    def matches(self, text: str, lowered: str | None = None) -> bool:
        return self.match.matches(text, lowered)

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
