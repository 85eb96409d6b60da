"""Pick the format of a source from a sample of its lines.

Every registered spec is fitted on the sample and scored by the share of (non-blank) lines it
recognises. For multi-line formats, lines that look like stack-trace continuations are left out
of the count, because a log4j file full of Java traces is still a log4j file. The winner
maximises ``score * (0.5 + 0.5 * specificity)`` so that, at equal coverage, nginx beats the
generic fallback; a format must cover at least ``MIN_SHARE`` of the lines to win at all,
otherwise the source is read as ``plain`` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiops_copilot.ingest.formats import ALL_FORMATS, get_format
from aiops_copilot.ingest.formats._continuation import looks_like_continuation
from aiops_copilot.ingest.formats.base import FormatSpec, LineParser

#: Below this share of recognised lines a format is not trusted (prose would otherwise be
#: "detected" as whatever happened to match a stray line).
MIN_SHARE = 0.3
#: Confidence reported when falling back to ``plain`` on a non-empty sample.
FALLBACK_CONFIDENCE = 0.1


@dataclass(frozen=True)
class Detection:
    """The chosen format, its fitted parser, how sure we are, and every format's share."""

    spec: FormatSpec
    parser: LineParser
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)


def _recognised(parser: LineParser, line: str) -> bool:
    if parser.parse(line) is not None:
        return True
    continuation = getattr(parser, "continuation", None)
    return continuation is not None and continuation(line) is not None


def score_format(spec: FormatSpec, parser: LineParser, lines: Sequence[str]) -> float:
    """Share of ``lines`` (already non-blank) that ``parser`` recognises.

    For multi-line formats, continuation-looking lines are not counted, nor is an unrecognised
    line right next to one: that is the ``ValueError: x`` / ``java.io.IOException: x`` line
    that opens or closes a stack trace, which belongs to the record before it.
    """
    if not spec.multiline:
        hits = sum(1 for line in lines if _recognised(parser, line))
        return hits / len(lines) if lines else 0.0
    continuation = [looks_like_continuation(line) for line in lines]
    total = hits = 0
    last = len(lines) - 1
    for index, line in enumerate(lines):
        if continuation[index]:
            continue
        if _recognised(parser, line):
            hits += 1
        elif (index > 0 and continuation[index - 1]) or (index < last and continuation[index + 1]):
            continue
        total += 1
    return hits / total if total else 0.0


def _fallback() -> FormatSpec:
    try:
        return get_format("generic")
    except KeyError:
        return get_format("plain")


def detect_format(sample: Sequence[str], *, forced: str | None = None) -> Detection:
    """Choose the format for ``sample``; ``forced`` (a name or alias) skips scoring.

    An empty sample yields the generic fallback (``plain`` if generic is unavailable).
    """
    lines = [line.rstrip("\r\n") for line in sample]
    lines = [line for line in lines if line.strip()]
    if forced is not None:
        spec = get_format(forced)
        return Detection(spec=spec, parser=spec.fit(lines), confidence=1.0)
    if not lines:
        spec = _fallback()
        return Detection(spec=spec, parser=spec.fit(lines), confidence=0.0)
    scores: dict[str, float] = {}
    best: tuple[float, FormatSpec, LineParser] | None = None
    for spec in ALL_FORMATS:
        if spec.name == "plain":
            continue
        parser = spec.fit(lines)
        share = score_format(spec, parser, lines)
        scores[spec.name] = round(share, 4)
        weighted = share * (0.5 + 0.5 * spec.specificity)
        if share >= MIN_SHARE and (best is None or weighted > best[0]):
            best = (weighted, spec, parser)
    if best is None:
        plain = get_format("plain")
        return Detection(plain, plain.fit(lines), FALLBACK_CONFIDENCE, scores)
    _, spec, parser = best
    return Detection(spec=spec, parser=parser, confidence=scores[spec.name], scores=scores)
