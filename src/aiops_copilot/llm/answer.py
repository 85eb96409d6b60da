"""What a model must answer, and the checks an answer passes before it may touch a diagnosis.

Why so strict: a model's answer replaces text an engineer acts on at 3 a.m. It is taken only
when it (1) parses against the schema the provider was asked to follow, (2) says enough to be
worth more than the fixer's text -- a title of at least three words, a root cause of at least
eight (a 270M model measured here answered ``connection_leaks``: valid JSON, valid citations,
no use), (3) cites only evidence ids that exist in the pack it was shown -- an answer citing
``E9`` of a pack with four lines made something up -- and (4) does not contradict a strong
knowledge-base match.

The contradiction rule, concretely: when the pack's first knowledge-base entry (``K1``) matched
the incident's own lines by signature with a score of at least ``kb_confidence`` (0.8 by
default: the knowledge base's high and critical signatures), the answer

- must name that entry's domain (``domain``), and
- must not rule out a hypothesis that cites ``K1``, nor call ``K1`` itself ruled out.

Anything else (a sharper root cause, a different ranking of the possible causes, extra
steps) is a refinement, not a contradiction. A failed check is a :class:`Rejection` whose
one-line reason is sent back to the model once, then logged.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from aiops_copilot.llm.evidence_pack import EvidencePack, KbAnchor

__all__ = ["Answer", "AnswerHypothesis", "Rejection", "answer_schema", "check_answer"]

#: Words an answer must give at least, to replace the fixer's title, root cause, causes.
MIN_TITLE_WORDS = 3
MIN_ROOT_CAUSE_WORDS = 8
MIN_CAUSE_WORDS = 2

#: The six domains (models.Domain), spelled out so the schema carries them as an enum.
DomainName = Literal[
    "database", "network", "application", "security", "infrastructure", "integration"
]
CitationId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][0-9]{1,3}$")]


def _cut(limit: int) -> AfterValidator:
    """Over-long text is shortened, not rejected, and the limit stays out of the JSON schema:
    grammar-based structured output (llama.cpp, Ollama) unrolls ``maxLength`` into one rule
    per character, which for a few hundred characters makes grammars too big to load."""

    def cut(text: str) -> str:
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    return AfterValidator(cut)


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _cut(600)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _cut(1200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3), _cut(200)]


class Rejection(Exception):
    """An answer not taken, with the one-line reason the model (and the log) is told."""


class AnswerHypothesis(BaseModel):
    """One candidate cause, as the model ranks it, with the evidence ids behind it."""

    model_config = ConfigDict(extra="forbid")

    cause: Line
    status: Literal["supported", "possible", "ruled_out"]
    because: Long
    evidence: list[CitationId] = Field(max_length=10)


class Answer(BaseModel):
    """The diagnosis a model proposes for one incident."""

    model_config = ConfigDict(extra="forbid")

    domain: DomainName
    title: Title
    root_cause: Long
    hypotheses: list[AnswerHypothesis] = Field(min_length=1, max_length=6)
    remediation: list[Line] = Field(max_length=8)
    commands: list[Line] = Field(max_length=6)
    confidence: float = Field(ge=0.0, le=1.0)
    cited: list[CitationId] = Field(min_length=1, max_length=20)

    def all_citations(self) -> list[str]:
        """Every id the answer cites, first mention first."""
        ids = list(self.cited)
        for hypothesis in self.hypotheses:
            ids += hypothesis.evidence
        return list(dict.fromkeys(ids))


def answer_schema() -> dict[str, Any]:
    """The JSON schema sent through the provider's structured mode: no ``$ref`` (small
    servers' grammar converters handle inline schemas best), every property required and no
    others allowed, as OpenAI's strict mode demands."""
    schema = Answer.model_json_schema()
    definitions = schema.pop("$defs", {})
    tidy: dict[str, Any] = _tidy(_inline(schema, definitions))
    return tidy


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return _inline(definitions[ref.rsplit("/", 1)[-1]], definitions)
        return {k: _inline(v, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def _tidy(node: Any) -> Any:
    """Drop pydantic's titles and docstrings (the prompt explains the fields); state
    ``required`` and ``additionalProperties`` on every object."""
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tidy(v) for k, v in node.items() if k not in ("title", "description")}
    if out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out["properties"] = {k: _tidy(v) for k, v in node["properties"].items()}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def parse_answer(raw: dict[str, Any]) -> Answer:
    """The answer as a model, or a Rejection naming the first schema problem."""
    try:
        return Answer.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "answer"
        raise Rejection(f"schema: {where}: {error['msg']}") from None


def check_answer(raw: dict[str, Any], pack: EvidencePack) -> Answer:
    """Parse, then check substance, citations and the knowledge-base rule; raise Rejection."""
    answer = parse_answer(raw)
    _check_substance(answer)
    unknown = [i for i in answer.all_citations() if i not in pack.ids]
    if unknown:
        shown = ", ".join(unknown[:5])
        raise Rejection(f"cites evidence that is not in the pack: {shown}")
    anchor = pack.anchor
    if anchor is None:
        return answer
    if answer.domain != anchor.domain:
        raise Rejection(
            f"contradicts knowledge-base match {anchor.entry_id} ({anchor.item_id}, domain "
            f"{anchor.domain}, match {anchor.score:.2f}): answer says domain {answer.domain}"
        )
    for hypothesis in answer.hypotheses:
        names_anchor = anchor.item_id in hypothesis.evidence or _mentions(hypothesis.cause, anchor)
        if hypothesis.status == "ruled_out" and names_anchor:
            raise Rejection(
                f"contradicts knowledge-base match {anchor.entry_id} ({anchor.item_id}): "
                f"rules out {hypothesis.cause!r}"
            )
    return answer


def _words(text: str) -> int:
    """Words as a reader counts them: ``postgresql-15-main`` is one."""
    return sum(1 for word in text.split() if any(c.isalnum() for c in word))


def _check_substance(answer: Answer) -> None:
    if _words(answer.title) < MIN_TITLE_WORDS:
        raise Rejection(f"too thin: the title needs at least {MIN_TITLE_WORDS} words")
    if _words(answer.root_cause) < MIN_ROOT_CAUSE_WORDS:
        raise Rejection(
            f"too thin: the root cause needs at least {MIN_ROOT_CAUSE_WORDS} words naming the "
            "facts the evidence shows"
        )
    for hypothesis in answer.hypotheses:
        if _words(hypothesis.cause) < MIN_CAUSE_WORDS:
            raise Rejection(f"too thin: hypothesis {hypothesis.cause!r} names no cause")


def _mentions(text: str, anchor: KbAnchor) -> bool:
    pattern = rf"(?<![A-Za-z0-9]){re.escape(anchor.item_id)}(?![0-9])|{re.escape(anchor.entry_id)}"
    return re.search(pattern, text) is not None
