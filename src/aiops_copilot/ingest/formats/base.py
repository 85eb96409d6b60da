"""The contract every log format implements.

A *format spec* knows how to recognise and parse one family of logs. Detection fits every spec
to a sample of a source and keeps the one that parses the most lines; the fitted *line parser*
then turns each physical line into a :class:`LogRecord` (or ``None`` when the line is not a
record head of that format, e.g. a stack-trace continuation, which multi-line folding handles).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from aiops_copilot.models import LogRecord


class LineParser(Protocol):
    """Parses one physical line; ``None`` means "not a record head in this format"."""

    @property
    def format_name(self) -> str: ...

    def parse(self, line: str) -> LogRecord | None: ...


class FormatSpec:
    """Base class for a format. Stateless formats are their own parser (``fit`` returns self).

    ``specificity`` breaks ties in detection: when two formats parse the same share of a sample,
    the more specific one (nginx access over generic "timestamp level message") wins.
    ``multiline`` says whether unparsed lines after a record should be folded into it (true for
    header-based text formats, false for JSON lines, where every line stands alone).
    ``mine_field_keys`` and ``identity_fields`` tell the miner how to treat ``fields``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    specificity: ClassVar[float] = 0.5
    multiline: ClassVar[bool] = True
    #: Structured formats (JSON, logfmt): the record's field *keys* are part of its template.
    mine_field_keys: ClassVar[bool] = False
    #: Fields whose *values* make a different event (an access log's status: a 502 is not a
    #: 200); the miner keeps them literally in the template.
    identity_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def format_name(self) -> str:
        return self.name

    def fit(self, sample: Sequence[str]) -> LineParser:
        """Adapt to a sample of the source; the default format needs no adaptation."""
        return self

    def parse(self, line: str) -> LogRecord | None:  # pragma: no cover - abstract
        raise NotImplementedError
