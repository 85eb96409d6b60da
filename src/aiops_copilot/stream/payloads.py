"""From message payloads to records, the way ``aiops serve`` turns a shipper's request into
records (``api/decode``): the same entry builder, format memory and folding.

What a payload may be:

* log text: one line, or several (a stack trace sent whole); its format is detected on the
  batch's lines (and remembered for the stream), multi-line records are folded, and a record
  may span consecutive messages of one batch (a shipper that sends one line per message);
* a JSON object on one line: a structured record (its level known), or a shipper's envelope
  around a raw line (``{"message": "<line>", "host": ...}``), as for ``/v1/logs``;
* a pretty-printed JSON object over several lines: the same, once compacted;
* a Loki push body (``{"streams": [...]}``) or an OTLP/HTTP JSON body
  (``{"resourceLogs": [...]}``): decoded by the API's own decoders, each Loki stream or OTLP
  file one source;
* a binary OTLP ``ExportLogsServiceRequest``: what the OpenTelemetry Collector's Kafka
  exporter writes by default (``otlp_proto``). Recognised only when the bytes parse as one,
  hold at least one log record, and either serialise back to exactly the same bytes or are
  not UTF-8 text at all, so a text line is never mistaken for it.

The shipper decoders come with the ``serve`` extra; without it such payloads are skipped and
counted.

Records of plain and JSON payloads cite the stream (``redis:logs``) as their source, numbered
from 1 in the order this consumer received them (a running count, like the syslog
receiver's). Payloads that are not UTF-8 are decoded with replacement characters, counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from loguru import logger

from aiops_copilot.api.decode.common import Builder, Decoded, Entry, FormatMemory, decode_text
from aiops_copilot.ingest.formats.json_lines import load_object
from aiops_copilot.models import LogRecord
from aiops_copilot.stream.broker import Message

#: Sources whose running line numbers are remembered (Loki and OTLP name many).
MAX_SOURCES = 4096


@dataclass(slots=True)
class PayloadStats:
    """What the decoder had to skip or repair, since it started."""

    messages: int = 0
    records: int = 0
    #: Payloads that gave nothing usable (empty, a bad Loki/OTLP body, no decoder for it).
    skipped: int = 0
    invalid_utf8: int = 0
    cut_lines: int = 0


class PayloadDecoder:
    """Turns one fetched batch of messages into records (see the module's notes)."""

    def __init__(self, *, max_line_bytes: int = 65536, forced_format: str | None = None) -> None:
        self.stats = PayloadStats()
        self._builder = Builder(
            FormatMemory(), max_line_bytes=max_line_bytes, forced_format=forced_format
        )
        self._lines: dict[str, int] = {}
        self._warned = False

    def decode(self, messages: Sequence[Message], source: str) -> list[LogRecord]:
        """The records of ``messages`` from stream ``source``, in order; what could not be
        used is counted."""
        decoded = Decoded()
        entries: list[Entry] = []
        for message in messages:
            self.stats.messages += 1
            if _maybe_otlp_protobuf(message.payload) and self._otlp_protobuf(
                message.payload, decoded
            ):
                continue
            text, invalid = decode_text(message.payload)
            decoded.invalid_utf8 += invalid
            stripped = text.strip()
            if not stripped:
                self.stats.skipped += 1
                continue
            data = load_object(stripped) if stripped[0] == "{" and stripped[-1] == "}" else None
            if data is not None and ("streams" in data or "resourceLogs" in data):
                self._shipper_body(message.payload, data, decoded)
            elif data is not None:
                compact = stripped if "\n" not in stripped else json.dumps(data, ensure_ascii=False)
                entries.append(Entry(text=compact, data=data))
            else:
                entries.append(Entry(text=text.rstrip("\r\n")))
        self._builder.batch(source, entries, decoded)
        self.stats.invalid_utf8 += decoded.invalid_utf8
        self.stats.cut_lines += decoded.cut_lines
        records: list[LogRecord] = []
        for batch in decoded.batches:
            offset = self._lines.get(batch.source, 0)
            for record in batch.records:
                record.line_no += offset
                record.end_line += offset
            if batch.source not in self._lines and len(self._lines) >= MAX_SOURCES:
                self._lines.clear()
            self._lines[batch.source] = offset + batch.lines
            records.extend(batch.records)
        self.stats.records += len(records)
        return records

    def _otlp_protobuf(self, payload: bytes, decoded: Decoded) -> bool:
        """A binary OTLP logs request, decoded as ``aiops serve`` decodes one; False when the
        bytes are not one after all (they are then read as text)."""
        try:
            from aiops_copilot.api.decode.otlp_proto import decode_parsed, parse_request
            from aiops_copilot.api.errors import ApiError
        except ImportError:
            return False
        try:
            request = parse_request(payload)
        except ApiError:  # not a request (400), or no opentelemetry-proto (415)
            return False
        records = sum(
            len(scope.log_records)
            for resource in request.resource_logs
            for scope in resource.scope_logs
        )
        if not records or not (request.SerializeToString() == payload or not _is_utf8(payload)):
            return False
        try:
            body = decode_parsed(request, self._builder)
        except ApiError as exc:
            self.stats.skipped += 1
            logger.info("payload skipped: {}", exc.message)
            return True
        decoded.batches.extend(body.batches)
        self.stats.skipped += body.skipped
        return True

    def _shipper_body(self, payload: bytes, data: dict[str, object], decoded: Decoded) -> None:
        """A Loki push or an OTLP body in one message, through the API's decoders."""
        try:
            from aiops_copilot.api.decode.loki import decode_loki
            from aiops_copilot.api.decode.otlp import decode_otlp
            from aiops_copilot.api.errors import ApiError
        except ImportError:
            self.stats.skipped += 1
            if not self._warned:
                self._warned = True
                logger.warning(
                    "Loki/OTLP payloads need the serve extra (pip install "
                    "'aiops-copilot[serve]'); skipped"
                )
            return
        decode = decode_loki if "streams" in data else decode_otlp
        try:
            body = decode(payload, self._builder)
        except ApiError as exc:
            self.stats.skipped += 1
            logger.info("payload skipped: {}", exc.message)
            return
        decoded.batches.extend(body.batches)
        self.stats.skipped += body.skipped


def _maybe_otlp_protobuf(payload: bytes) -> bool:
    """Cheap first test: an ``ExportLogsServiceRequest`` starts with field 1 (resource_logs,
    length-delimited: byte 0x0A) and is not text (it holds a control byte other than
    whitespace); the full check parses it."""
    return (
        len(payload) > 2
        and payload[0] == 0x0A
        and any(b < 0x09 or 0x0E <= b < 0x20 for b in payload[1:64])
    )


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
