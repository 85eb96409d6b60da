"""Lines of a growing file turned into records, with the batch reader's detection and folding.

Two things differ from reading a finished file, and only these are done here; the format
detection (:func:`~aiops_copilot.ingest.detect.detect_format`) and the multi-line folding
(:func:`~aiops_copilot.ingest.multiline.fold_records`) are the batch reader's own:

* the format is detected once ``sample_lines`` lines are there, or earlier when the file goes
  quiet (a small log must not wait for 200 lines);
* the last record may still grow (the next lines may be its stack trace), so it is held back
  until a later line starts a new record or the file goes quiet. Held-back lines are folded
  again with the lines that follow: folding depends only on the open record and the next
  line, so re-folding from the held record's first line gives exactly what one pass over the
  whole file would have given.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiops_copilot.ingest.detect import detect_format
from aiops_copilot.ingest.formats.base import LineParser
from aiops_copilot.ingest.multiline import fold_records
from aiops_copilot.live.lines import Line
from aiops_copilot.models import LogRecord


@dataclass(frozen=True, slots=True)
class FoldOptions:
    sample_lines: int = 200
    forced_format: str | None = None
    #: A record that would fold more lines than this is cut (the batch reader's bound too).
    max_record_lines: int = 2000


class RecordFolder:
    """``[Line] -> [LogRecord]`` for one live source."""

    def __init__(self, source: str, options: FoldOptions | None = None) -> None:
        self.source = source
        self.options = options or FoldOptions()
        self._parser: LineParser | None = None
        self._multiline = True
        self._held: list[Line] = []
        self.format = ""
        self.confidence = 0.0

    @property
    def held(self) -> list[Line]:
        """Lines read but not yet handed out as records."""
        return self._held

    def add(self, lines: list[Line]) -> None:
        self._held.extend(lines)

    def take(self, *, final: bool) -> list[LogRecord]:
        """Records that are complete. ``final``: the source went quiet or ends, so the last
        record is complete too (and a format is chosen on whatever sample there is)."""
        if not self._held:
            return []
        if self._parser is None:
            if not final and len(self._held) < self.options.sample_lines:
                return []
            self._detect()
        assert self._parser is not None
        records = list(
            fold_records(
                ((line.number, line.text) for line in self._held),
                self._parser,
                multiline=self._multiline,
                source=self.source,
                max_record_lines=self.options.max_record_lines,
            )
        )
        if final or not records:  # no records: only blank lines, which fold into nothing
            self._held = []
            return records
        last = records.pop()
        self._held = [line for line in self._held if line.number >= last.line_no]
        return records

    def reset(self) -> None:
        """The file was replaced: detect its format again on what comes next."""
        self._parser = None
        self._held = []
        self.format = ""
        self.confidence = 0.0

    def _detect(self) -> None:
        sample = [line.text for line in self._held[: self.options.sample_lines]]
        detection = detect_format(sample, forced=self.options.forced_format)
        self._parser = detection.parser
        self._multiline = detection.spec.multiline
        self.format = detection.spec.name
        self.confidence = detection.confidence
