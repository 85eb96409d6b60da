"""From what a shipper sent to :class:`LogRecord`: the part every ingestion endpoint shares.

A shipper sends *entries*: a line of text (or a JSON object) plus what it knows about it
(a timestamp, labels, a severity). The text is parsed exactly as ``aiops analyze`` parses a
file — the source's format detected on a sample (``ingest.detect``), stack traces folded
(``ingest.multiline``) — because a Loki or Elasticsearch entry is usually the raw line a
file tailer read. What the line itself says wins (its own timestamp is the event's time, the
shipper's is often the time it was read); what the shipper said fills the gaps.

The detected format is remembered per source, so a tailer that sends one line per request
still gets its nginx lines parsed as nginx: the remembered parser is kept while it
recognises at least half of a new batch, and the format is detected afresh otherwise. The
learned ``generic`` format is not trusted on fewer than ten lines (it would learn a header
from one line); such small batches of unknown text stay plain until a larger one arrives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiops_copilot.ingest.detect import Detection, detect_format, score_format
from aiops_copilot.ingest.formats.json_lines import (
    MESSAGE_KEYS,
    load_object,
    record_from_mapping,
)
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.models import Level, LogRecord

#: Lines format detection looks at (as ``ingest.sample_lines`` does for files).
SAMPLE_LINES = 200
#: A remembered format is kept while it recognises at least this share of a new batch.
KEEP_SHARE = 0.5
#: Fewer lines than this are too few for the learned ``generic`` format to learn a header.
MIN_LEARNING_SAMPLE = 10


def decode_text(data: bytes) -> tuple[str, int]:
    """UTF-8 text of a pushed body or message (a BOM dropped); invalid bytes become U+FFFD
    and are counted. Here, not beside the HTTP helpers: ``aiops consume`` decodes payloads
    without the web stack installed."""
    try:
        return data.decode("utf-8-sig"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        return text, text.count("\ufffd")


@dataclass(slots=True)
class Entry:
    """One log entry as a shipper sent it: its text and what the shipper said about it."""

    text: str
    timestamp: datetime | None = None
    level: Level = Level.UNKNOWN
    host: str | None = None
    service: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    #: The text already decoded as a JSON object, when the shipper sent structure.
    data: dict[str, Any] | None = None


@dataclass(slots=True)
class Batch:
    """Records of one source from one request, numbered from 1; ``lines`` physical lines.

    The ingest queue renumbers them after the lines the source sent before, once accepted.
    """

    source: str
    records: list[LogRecord]
    lines: int


@dataclass(slots=True)
class Decoded:
    """What a request decoded to: batches to queue, and entries that could not be used."""

    batches: list[Batch] = field(default_factory=list)
    skipped: int = 0
    #: Lines cut at ``ingest.max_line_bytes``, and bytes that were not UTF-8.
    cut_lines: int = 0
    invalid_utf8: int = 0
    #: The first problem with a skipped entry, for the response.
    problem: str | None = None

    @property
    def records(self) -> int:
        return sum(len(b.records) for b in self.batches)

    def skip(self, problem: str, count: int = 1) -> None:
        self.skipped += count
        if self.problem is None:
            self.problem = problem


class FormatMemory:
    """The last detected format per source (bounded, least recently used forgotten)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._known: OrderedDict[str, Detection] = OrderedDict()
        self._lock = threading.Lock()

    def detect(self, source: str, lines: Sequence[str], forced: str | None) -> Detection:
        sample = [line for line in lines[:SAMPLE_LINES] if line.strip()]
        if forced is not None:
            return detect_format(sample, forced=forced)
        with self._lock:
            known = self._known.get(source)
        if known is not None and sample:
            share = score_format(known.spec, known.parser, sample[:20])
            if share >= KEEP_SHARE:
                with self._lock:
                    self._known.move_to_end(source)
                return known
        detection = detect_format(sample)
        if detection.spec.name == "generic" and len(sample) < MIN_LEARNING_SAMPLE:
            # The learned format needs a sample to learn a header from; from one or two
            # lines it would take any word for a service name. Plain text until it has one.
            return detect_format(sample, forced="plain")
        if sample:
            with self._lock:
                self._known[source] = detection
                self._known.move_to_end(source)
                while len(self._known) > self._capacity:
                    self._known.popitem(last=False)
        return detection


class Builder:
    """Turns entries into records for one request; counts what was cut."""

    def __init__(
        self, formats: FormatMemory, *, max_line_bytes: int, forced_format: str | None = None
    ) -> None:
        self.formats = formats
        self.max_line_bytes = max_line_bytes
        self.forced_format = forced_format

    def batch(self, source: str, entries: Sequence[Entry], decoded: Decoded) -> None:
        """Parse ``entries`` of one source and add them to ``decoded`` as one batch.

        A JSON object is a finished record when its level is known (from the object or from
        the shipper); otherwise it is taken for a shipper's envelope around a raw line
        (``{"message": "<the line>", "host": ...}``) and its message is parsed like any text
        line, the envelope filling the gaps.
        """
        if not entries:
            return
        lines: list[str] = []
        owner: list[Entry] = []  # what the shipper said about each physical line
        structured: list[LogRecord] = []
        for entry in entries:
            meta = entry
            data = entry.data
            if data is None:
                stripped = entry.text.strip()
                if stripped[:1] == "{" and stripped[-1:] == "}" and "\n" not in stripped:
                    data = load_object(stripped)
            if data is not None:
                raw = self._cut(entry.text.strip(), decoded)
                record = record_from_mapping(data, raw, "json")
                known = record.level is not Level.UNKNOWN or entry.level is not Level.UNKNOWN
                if known or not _has_message(data):
                    record.source = source
                    record.line_no = record.end_line = len(lines) + 1
                    structured.append(record)
                    lines.append(raw)
                    owner.append(entry)
                    continue
                meta = _envelope(record, entry)
            for part in meta.text.split("\n"):
                lines.append(self._cut(part.rstrip("\r"), decoded))
                owner.append(meta)
        records = self._parse(source, lines, structured)
        for record in records:
            apply_entry(record, owner[record.line_no - 1])
        decoded.batches.append(Batch(source, records, len(lines)))

    def _parse(self, source: str, lines: list[str], structured: list[LogRecord]) -> list[LogRecord]:
        if len(structured) == len(lines):
            return structured
        json_at = {record.line_no - 1 for record in structured}
        text = [line for index, line in enumerate(lines) if index not in json_at]
        detection = self.formats.detect(source, text, self.forced_format)
        out = list(structured)
        for run in _text_runs(lines, json_at):
            out.extend(
                fold_records(
                    run, detection.parser, multiline=detection.spec.multiline, source=source
                )
            )
        if structured:
            out.sort(key=lambda record: record.line_no)
        return out

    def _cut(self, text: str, decoded: Decoded) -> str:
        limit = self.max_line_bytes
        if len(text) * 4 <= limit:
            return text
        raw = text.encode("utf-8", errors="replace")
        if len(raw) <= limit:
            return text
        decoded.cut_lines += 1
        return raw[:limit].decode("utf-8", errors="ignore")


def _has_message(data: dict[str, Any]) -> bool:
    return any(isinstance(data.get(key), str) for key in MESSAGE_KEYS)


def _envelope(record: LogRecord, entry: Entry) -> Entry:
    """A JSON envelope's message as a text entry; the envelope's keys become what the
    shipper said (the entry's own metadata still fills what the envelope lacks)."""
    fields = dict(record.fields)
    for key, value in entry.fields.items():
        fields.setdefault(key, value)
    return Entry(
        text=record.message,
        timestamp=record.timestamp or entry.timestamp,
        level=entry.level,
        host=record.host or entry.host,
        service=record.service or entry.service,
        fields=fields,
    )


def _text_runs(lines: list[str], json_at: set[int]) -> Iterable[list[tuple[int, str]]]:
    """Runs of text lines (numbered from 1) between JSON entries: folding never crosses one."""
    run: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if index in json_at:
            if run:
                yield run
                run = []
            continue
        run.append((index + 1, line))
    if run:
        yield run


def apply_entry(record: LogRecord, entry: Entry) -> None:
    """What the shipper said fills what the line did not say; nothing is overwritten."""
    if record.timestamp is None:
        record.timestamp = entry.timestamp
    if record.level is Level.UNKNOWN:
        record.level = entry.level
    if record.host is None:
        record.host = entry.host
    if record.service is None:
        record.service = entry.service
    for key, value in entry.fields.items():
        record.fields.setdefault(key, value)
