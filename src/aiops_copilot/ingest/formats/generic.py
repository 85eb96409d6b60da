"""The fallback format: "timestamp, level, some header fields, message", learned per source.

Real logs put all sorts of fields in front of the message (an epoch and a node name on a
supercomputer, ``|``-separated fields on a phone, a thread in brackets in Java) and no list of
regexes covers them all. Instead of one pattern per dataset, this format *learns* the header
from a sample of the source:

1. each line's start is cut into typed header tokens: timestamps (many shapes, some with spaces
   inside), levels, bracketed groups (nested brackets allowed), separators (``-``, ``|``),
   ``component:`` words, numbers, and other words;
2. the most common sequence of token kinds shared by at least 90% of the sample is the header
   shape, cut back to its last *terminal* kind (a word is never the last header field, so the
   first words of messages are not eaten);
3. every line whose start has that shape is a record head; the rest of the line is the message.
   A line that does not start like that is a continuation (multi-line folding takes it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final

from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.formats.header_time import (
    TIMESTAMP_SHAPES,
    match_timestamp,
    parse_timestamp,
    to_datetime,
)
from aiops_copilot.models import Level, LogRecord, parse_level

_LEVEL_WORD: Final = re.compile(
    r"\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|SEVERE|ALERT|"
    r"EMERG|FAILURE|Trace|Debug|Info|Information|Notice|Warn|Warning|Error|Fatal|Critical|"
    r"trace|debug|info|notice|warn|warning|error|fatal|crit|alert|emerg)\]?:?(?=\s|$)"
)
_WS: Final = re.compile(r"\s+")

# Token kinds.
TS, LVL, BR, SEP, COMP, NUM, WORD, AWORD = "ts", "lvl", "br", "sep", "comp", "num", "word", "aword"
#: Kinds that may end a header. A plain word may not (it is more likely the message's start),
#: but a word followed by column alignment (two or more spaces) may.
_TERMINAL: Final = frozenset({TS, LVL, BR, SEP, COMP, NUM, AWORD})
_MAX_HEADER_TOKENS: Final = 14
_SUPPORT: Final = 0.9
_FIELD: Final = frozenset({WORD, AWORD, NUM, SEP, LVL})
_MAX_SKIP: Final = 2
_CANDIDATE_SEQUENCES: Final = 8


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    end: int
    match: re.Match[str] | None = None


def _bracket_end(line: str, start: int) -> int:
    """End of a balanced ``[...]`` group starting at ``start`` (nested brackets allowed)."""
    depth = 0
    for i in range(start, min(len(line), start + 512)):
        ch = line[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def header_tokens(line: str, limit: int = _MAX_HEADER_TOKENS) -> list[_Token]:
    """Cut the start of a line into typed header tokens (at most ``limit``)."""
    tokens: list[_Token] = []
    pos = 0
    n = len(line)
    while pos < n and len(tokens) < limit:
        ws = _WS.match(line, pos)
        if ws is not None:
            pos = ws.end()
            if pos >= n:
                break
        ch = line[pos]
        if ch == "|":
            tokens.append(_Token(SEP, "|", pos + 1))
            pos += 1
            continue
        token = _typed_token(line, pos)
        tokens.append(token)
        pos = token.end
    return tokens


def _typed_token(line: str, pos: int) -> _Token:
    ch = line[pos]
    if ch.isdigit() or ch == "[" or ch.isupper():
        m = match_timestamp(line, pos)
        if m is not None:
            return _Token(TS, m.group(), m.end(), m)
    if ch == "[":
        end = _bracket_end(line, pos)
        if end > 0 and _boundary(line, end, ":"):
            if end < len(line) and line[end] == ":":
                return _Token(COMP, line[pos : end + 1], end + 1)
            return _Token(BR, line[pos:end], end)
    m = _LEVEL_WORD.match(line, pos)
    if m is not None:
        return _Token(LVL, m.group(), m.end())
    end = pos
    n = len(line)
    while end < n and not line[end].isspace() and line[end] != "|":
        end += 1
    text = line[pos:end]
    if text in _SEPARATORS:
        return _Token(SEP, text, end)
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return _Token(NUM, text, end)
    if text.endswith(":") and len(text) > 1:
        return _Token(COMP, text, end)
    if line.startswith("  ", end):
        return _Token(AWORD, text, end)
    return _Token(WORD, text, end)


def _boundary(line: str, end: int, extra: str = "") -> bool:
    return end >= len(line) or line[end].isspace() or line[end] in "|," + extra


_PID_IN_COMPONENT: Final = re.compile(r"^(?P<name>.*?)\[(?P<pid>\d+)\]:?$")


_UNNAMED: Final = re.compile(r"\(\?P<\w+>")
_SKIP: Final = rf"(?:[^\s|]+\s+){{0,{_MAX_SKIP}}}?"
_SEPARATORS: Final = frozenset({"-", "--", ":", "::", "|", "-->", "->"})


def _field_kind(text: str, expected: str) -> str:
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return NUM
    if text in _SEPARATORS:
        return SEP
    if _LEVEL_WORD.fullmatch(text):
        return LVL
    return AWORD if expected == AWORD else WORD


#: The last header field must be of the shape's own kind (see ``match_shape``).
_LAST_FIELD: Final = {
    NUM: r"(-?\d+)",
    LVL: r"(" + _LEVEL_WORD.pattern.removesuffix(r"(?=\s|$)") + ")",
    AWORD: r"([^\s|]+)(?=\s\s)",
    SEP: r"(-|--|:|::|-->|->)",
}


class GenericParser:
    """A parser fitted to one source: knows that source's header shape."""

    format_name = "generic"

    def __init__(self, shape: tuple[str, ...], sample: Sequence[str] = ()) -> None:
        self.shape = shape
        self._fast: re.Pattern[str] | None = None
        self._ts_shapes: dict[int, re.Pattern[str]] = {}
        if shape:
            self._compile(sample)

    def parse(self, line: str) -> LogRecord | None:
        if not self.shape or not line or line[0].isspace():
            return None
        if self._fast is not None:
            m = self._fast.match(line)
            if m is not None:
                return self._record(line, self._fast_tokens(m))
        tokens = header_tokens(line, len(self.shape) + _MAX_SKIP)
        kinds = [t.kind for t in tokens]
        consumed = match_shape(kinds, self.shape)
        if consumed <= 0:
            consumed = self._partial(kinds)
            if consumed <= 0:
                return None
        return self._record(line, tokens[:consumed])

    def _compile(self, sample: Sequence[str]) -> None:
        """One anchored regex for this source's header: the hot path is a single ``match``.

        Built from the sample lines that fit the shape exactly: the timestamp shape and the
        separator texts they use at each position. Lines it does not match take the token by
        token path, so the regex only ever speeds things up.
        """
        ts_seen: dict[int, Counter[int]] = {}
        sep_seen: dict[int, set[str]] = {}
        for line in sample:
            if not line or line[0].isspace():
                continue
            tokens = header_tokens(line, len(self.shape))
            if [t.kind for t in tokens] != list(self.shape):
                continue
            for i, token in enumerate(tokens):
                if token.kind == TS and token.match is not None:
                    ts_seen.setdefault(i, Counter())[TIMESTAMP_SHAPES.index(token.match.re)] += 1
                elif token.kind == SEP:
                    sep_seen.setdefault(i, set()).add(token.text)
        last = len(self.shape) - 1
        parts: list[str] = []
        for i, kind in enumerate(self.shape):
            if i > 0:
                pipe = "|" in sep_seen.get(i, ()) or "|" in sep_seen.get(i - 1, ())
                parts.append(r"\s*" if pipe else r"\s+")
            if kind == TS:
                if i not in ts_seen:
                    return
                ts_shape = TIMESTAMP_SHAPES[ts_seen[i].most_common(1)[0][0]]
                self._ts_shapes[i] = ts_shape
                parts.append(f"({_UNNAMED.sub('(?:', ts_shape.pattern)})")
            elif kind == BR:
                parts.append(r"(\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\])")
            elif kind == SEP and (i == last or "|" in sep_seen.get(i, ())):
                texts = sorted(sep_seen.get(i, {"-"}), key=len, reverse=True)
                skip = _SKIP if i == last and "|" not in texts else ""
                parts.append(skip + f"({'|'.join(re.escape(t) for t in texts)})")
            elif kind == COMP:
                parts.append((_SKIP if i == last else "") + r"([^\s|]*:)")
            elif i == last:
                parts.append(_LAST_FIELD[kind])
            else:
                parts.append(r"([^\s|]+)")
        ends_with_pipe = self.shape[-1] == SEP and "|" in sep_seen.get(last, ())
        self._fast = re.compile("".join(parts) + ("" if ends_with_pipe else r"(?=[\s|,]|$)"))

    def _fast_tokens(self, m: re.Match[str]) -> list[_Token]:
        tokens = []
        for i, kind in enumerate(self.shape):
            text = m.group(i + 1)
            end = m.end(i + 1)
            if kind == TS:
                tokens.append(_Token(TS, text, end, self._ts_shapes[i].fullmatch(text.rstrip(","))))
            elif kind in _FIELD:
                # Free-form positions take whatever field the line has there, as the token
                # path would classify it.
                tokens.append(_Token(_field_kind(text, kind), text, end))
            else:
                tokens.append(_Token(kind, text, end))
        return tokens

    def _partial(self, kinds: list[str]) -> int:
        """A line that starts like a record head (the same leading timestamp or id) but whose
        header strays from the shape later is still a record, not a continuation: its header
        is the longest fitting prefix of the shape that ends on a terminal kind."""
        if not kinds or kinds[0] != self.shape[0] or kinds[0] not in (TS, NUM, BR):
            return -1
        for length in range(len(self.shape) - 1, 0, -1):
            prefix = self.shape[:length]
            if prefix[-1] in _TERMINAL and TS in kinds[: length + _MAX_SKIP]:
                consumed = match_shape(kinds, prefix)
                if consumed > 0:
                    return consumed
        return -1

    def _record(self, line: str, tokens: list[_Token]) -> LogRecord:
        end = tokens[-1].end
        message = line[end:].lstrip(" \t|")
        timestamp: datetime | None = None
        level = Level.UNKNOWN
        service: str | None = None
        pid: int | None = None
        host: str | None = None
        header_words: list[str] = []
        for token in tokens:
            if token.kind == TS and timestamp is None:
                timestamp = to_datetime(token.match) if token.match else parse_timestamp(token.text)
            elif token.kind == LVL and level is Level.UNKNOWN:
                level = parse_level(token.text)
            elif token.kind == COMP:
                name = token.text.rstrip(":")
                m = _PID_IN_COMPONENT.match(name)
                if m is not None:
                    name, pid = m.group("name"), int(m.group("pid"))
                service = name or service
            elif token.kind in (WORD, AWORD):
                header_words.append(token.text)
        if service is None and header_words:
            service = header_words[-1]
        if len(header_words) >= 2 or (header_words and service != header_words[-1]):
            host = header_words[0]
        return LogRecord(
            message=message,
            timestamp=timestamp,
            level=level,
            host=host,
            service=service,
            pid=pid,
            raw=line,
            format="generic",
        )


class GenericFormat(FormatSpec):
    """Fallback for any "timestamp level message"-like log, header shape learned per source."""

    name: ClassVar[str] = "generic"
    description: ClassVar[str] = "timestamp/level/fields header learned from the source"
    specificity: ClassVar[float] = 0.1
    multiline: ClassVar[bool] = True

    def fit(self, sample: Sequence[str]) -> GenericParser:
        return GenericParser(learn_shape(sample), sample)

    def parse(self, line: str) -> LogRecord | None:
        """Unfitted use: the line's own header shape, trimmed to its last terminal token."""
        return GenericParser(learn_shape([line])).parse(line)


def match_shape(kinds: Sequence[str], shape: Sequence[str]) -> int:
    """How many of a line's header tokens the shape covers, or -1 when it does not fit.

    Free-form fields (words, numbers, level words, separators) are interchangeable before the
    last position, so a ``-`` where other lines have an alert tag still fits; the last one must
    be of the shape's kind, and a separator or ``component:`` there may come after up to
    ``_MAX_SKIP`` extra words (a program name with a space in it).
    """
    j = 0
    last = len(shape) - 1
    for i, want in enumerate(shape):
        if j >= len(kinds):
            return -1
        have = kinds[j]
        if have == want or (i < last and want in _FIELD and have in _FIELD):
            j += 1
            continue
        if i == last and want in (SEP, COMP):
            for skip in range(1, _MAX_SKIP + 1):
                k = j + skip
                if k >= len(kinds) or kinds[k - 1] not in _FIELD:
                    break
                if kinds[k] == want:
                    j = k + 1
                    break
            else:
                return -1
            if j <= k:
                return -1
            continue
        return -1
    return j


def learn_shape(sample: Sequence[str]) -> tuple[str, ...]:
    """The longest header shape that fits at least 90% of the sample, ending on a terminal."""
    kinds = [
        [t.kind for t in header_tokens(line)]
        for line in sample
        if line.strip() and not line[0].isspace()
    ]
    if not kinds:
        return ()
    needed = max(1, int(len(kinds) * _SUPPORT + 0.999))
    candidates: set[tuple[str, ...]] = set()
    for seq, _ in Counter(tuple(k) for k in kinds).most_common(_CANDIDATE_SEQUENCES):
        for length in range(1, len(seq) + 1):
            if seq[length - 1] in _TERMINAL:
                candidates.add(seq[:length])
    best: tuple[str, ...] = ()
    for shape in sorted(candidates, key=lambda c: (-len(c), c)):
        if len(shape) <= len(best):
            break
        support = sum(1 for seq in kinds if match_shape(seq, shape) > 0)
        if support >= needed:
            best = shape
    # A header made of nothing but numbers and words is more likely a message's start.
    if best and not any(kind in (TS, LVL, COMP, SEP, BR) for kind in best):
        return ()
    return best
