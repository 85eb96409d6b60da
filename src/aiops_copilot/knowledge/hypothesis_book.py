"""Candidate causes as data: what each fixer may conclude, and what rules each cause in or out.

A fixer agent does not hard-code its reasoning. For every domain a YAML file
(``knowledge/hypotheses/<domain>.yaml``) lists

* **problems** — *what* happened (connections exhausted, deadlock, disk full ...), recognised
  by patterns and facts, each with a title and a one-sentence headline filled from the facts;
* **hypotheses** — *why* it happened (a connection leak, inconsistent lock order, an unbounded
  cache ...), each with the evidence that rules it in or out, remediation steps and commands.

Texts may name facts the fixer extracted (``{port}``); a segment in ``[[ ... ]]`` is dropped
when a fact it names is unknown, so one sentence serves both the rich and the bare case.
Validation is strict (regexes must compile, fact conditions must parse) because a typo here
would silently make a fixer blind to its evidence.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from aiops_copilot.models import Domain, Severity
from aiops_copilot.yamlio import load_yaml

SHIPPED_HYPOTHESES = Path(__file__).with_name("hypotheses")

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

#: ``name``, ``!name``, ``name=value|other``, ``name!=value``, ``name>=3`` ...
_CONDITION = re.compile(
    r"^(?P<neg>!)?(?P<name>[a-z_][a-z0-9_]*)(?:(?P<op>>=|<=|!=|=|>|<)(?P<value>.+))?$"
)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Patterns in hypothesis files are case-insensitive unless they say ``(?-i:...)``."""
    return _compiled(pattern)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _check_pattern(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"regex does not compile: {exc}") from None
    return value


def _check_condition(value: str) -> str:
    if _CONDITION.match(value.strip()) is None:
        raise ValueError(f"not a fact condition: {value!r} (name, !name, name=a|b, name>=3 ...)")
    return value.strip()


def _truthy(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != [] and value != {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def condition_holds(condition: str, facts: dict[str, Any]) -> bool:
    """Evaluate one fact condition (see module doc) against a fixer's facts."""
    match = _CONDITION.match(condition)
    if match is None:
        return False
    value = facts.get(match["name"])
    op, expected = match["op"], match["value"]
    if op is None:
        held = _truthy(value)
        return not held if match["neg"] else held
    if not _truthy(value) and value != 0:
        result = op == "!="
    elif op in ("=", "!="):
        options = {v.strip().lower() for v in expected.split("|")}
        values = value if isinstance(value, list | tuple | set) else [value]
        found = any(str(v).lower() in options for v in values)
        result = found if op == "=" else not found
    else:
        number, limit = _number(value), _number(expected)
        if number is None or limit is None:
            result = False
        else:
            result = {
                ">=": number >= limit,
                "<=": number <= limit,
                ">": number > limit,
                "<": number < limit,
            }[op]
    return not result if match["neg"] else result


class Check(BaseModel):
    """One piece of evidence: a pattern seen at least ``min`` times, or a fact condition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str | None = None
    fact: str | None = None
    min: int = Field(default=1, ge=1)
    says: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        if (self.pattern is None) == (self.fact is None):
            raise ValueError("a check has exactly one of pattern or fact")
        return self

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        return None if value is None else _check_pattern(value)

    @field_validator("fact")
    @classmethod
    def _fact_parses(cls, value: str | None) -> str | None:
        return None if value is None else _check_condition(value)

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else compile_pattern(self.pattern)


class Step(BaseModel):
    """A remediation step or command, optionally only when fact conditions hold.

    Written in YAML either as a plain string or as ``{when: [engine=redis], text: ...}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Text
    when: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("when", mode="before")
    @classmethod
    def _conditions(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        return tuple(_check_condition(str(v)) for v in value)

    def applies(self, facts: dict[str, Any]) -> bool:
        return all(condition_holds(c, facts) for c in self.when)


class Applies(BaseModel):
    """When something is relevant: any listed entry, tag, pattern, fact or problem matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_pattern(v) for v in value)

    @field_validator("facts")
    @classmethod
    def _facts_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_condition(v) for v in value)

    @property
    def empty(self) -> bool:
        return not (self.entries or self.tags or self.patterns or self.facts or self.problems)


class ProblemSpec(BaseModel):
    """What happened, in the words an on-call engineer would use for the incident's title."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Ident
    when: Applies
    requires: tuple[str, ...] = ()
    title: Text
    headline: Text
    #: Set when this problem is worse than the detectors' signals can know (a brute force that
    #: succeeded): the diagnosis raises the incident's severity to it, giving the headline as why.
    severity: Severity | None = None
    #: Escalation by the evidence: when every condition holds (fact conditions, as in
    #: ``requires``), the incident is raised to ``escalate_to`` (a crash loop is worse than one
    #: exception), with ``escalate_says`` as the reason.
    escalate_when: tuple[str, ...] = ()
    escalate_to: Severity | None = None
    escalate_says: Text | None = None

    @field_validator("requires")
    @classmethod
    def _requires_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_condition(v) for v in value)


class HypothesisSpec(BaseModel):
    """A candidate cause with what rules it in or out and what to do when it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Ident
    applies_to: Applies = Applies()
    requires: tuple[str, ...] = ()
    prior: float = Field(default=0.3, ge=0.0, le=1.0)
    cause: Text
    rule_in: tuple[Check, ...] = ()
    rule_out: tuple[Check, ...] = ()
    remediation: tuple[Step, ...] = ()
    commands: tuple[Step, ...] = ()
    checks: tuple[Text, ...] = ()

    @field_validator("requires")
    @classmethod
    def _requires_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_condition(v) for v in value)


class DomainBook(BaseModel):
    """One domain's problems and hypotheses (one YAML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: Domain
    problems: tuple[ProblemSpec, ...] = ()
    hypotheses: tuple[HypothesisSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> DomainBook:
        for kind, items in (("problem", self.problems), ("hypothesis", self.hypotheses)):
            ids = [item.id for item in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {', '.join(duplicates)}")
        known = {p.id for p in self.problems}
        for spec in self.hypotheses:
            unknown = set(spec.applies_to.problems) - known
            if unknown:
                raise ValueError(f"{spec.id}: unknown problems {sorted(unknown)}")
        return self


def load_book(path: Path) -> DomainBook:
    """Read and validate one hypotheses file; errors name the file."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
        return DomainBook.model_validate(raw)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


@cache
def shipped_book(domain: Domain) -> DomainBook:
    """The shipped hypotheses of one domain (read once per process, and kept parsed and
    validated in the user's cache between runs, as the knowledge base is)."""
    from aiops_copilot.knowledge.cache import cached_object

    path = SHIPPED_HYPOTHESES / f"{domain.value}.yaml"
    book = cached_object(f"hypotheses_{domain.value}", [path], lambda: load_book(path), DomainBook)
    if book.domain != domain:
        raise ValueError(f"{domain.value}.yaml declares domain {book.domain.value}")
    return book
