"""``POST /loki/api/v1/push`` in protobuf: what Promtail and Grafana Alloy's ``loki.write`` send.

The body is a snappy-compressed (block format, no framing) ``logproto.PushRequest``:

* ``PushRequest``: ``streams`` (1, repeated ``StreamAdapter``);
* ``StreamAdapter``: ``labels`` (1, the selector text ``{job="app", filename="..."}``),
  ``entries`` (2, repeated ``EntryAdapter``), ``hash`` (3, ignored);
* ``EntryAdapter``: ``timestamp`` (1, ``google.protobuf.Timestamp``: seconds 1, nanos 2),
  ``line`` (2), ``structuredMetadata`` (3, repeated name 1 / value 2 pairs).

Each stream becomes one source and each entry one line, exactly as the JSON body's do (the
same label handling, :func:`.loki.entry_of`). Decompression is bounded by the body limit
before anything is allocated. A body that is not snappy or not this message is refused (400);
an entry without a timestamp is skipped and counted, as in JSON.
"""

from __future__ import annotations

from typing import Any

from aiops_copilot.api.body import snappy_raw
from aiops_copilot.api.decode.common import Builder, Decoded, Entry, decode_text
from aiops_copilot.api.decode.loki import entry_of, parse_labels, source_of
from aiops_copilot.api.decode.protowire import LENGTH, VARINT, WireError, fields
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.timeparse import from_epoch

__all__ = ["decode_loki_proto"]

_STREAMS = 1
_LABELS, _ENTRIES = 1, 2
_TIMESTAMP, _LINE, _METADATA = 1, 2, 3
_SECONDS, _NANOS = 1, 2
_NAME, _VALUE = 1, 2


def decode_loki_proto(data: bytes, builder: Builder, *, limit: int, compressed: bool) -> Decoded:
    """Decode a protobuf push; ``compressed``: the body is still snappy (it is unless the
    request said ``Content-Encoding: snappy`` and that was undone already)."""
    payload = snappy_raw(data, limit, what="Loki protobuf push") if compressed else data
    decoded = Decoded()
    try:
        for number, (field, wire, value) in enumerate(fields(payload), start=1):
            if field != _STREAMS or wire != LENGTH or isinstance(value, int):
                continue
            labels, entries = _stream(value, number, decoded)
            builder.batch(source_of(labels), entries, decoded)
    except WireError as exc:
        raise ApiError(400, f"body is not a Loki PushRequest: {exc}") from None
    if decoded.skipped and not decoded.records:
        raise ApiError(400, f"nothing usable in the push: {decoded.problem}")
    return decoded


def _stream(data: memoryview, number: int, decoded: Decoded) -> tuple[dict[str, str], list[Entry]]:
    labels: dict[str, str] = {}
    raw_entries: list[memoryview] = []
    for field, wire, value in fields(data):
        if wire != LENGTH or isinstance(value, int):
            continue
        if field == _LABELS:
            labels = parse_labels(_text(value))
        elif field == _ENTRIES:
            raw_entries.append(value)
    entries = [e for raw in raw_entries if (e := _entry(raw, labels, number, decoded))]
    return labels, entries


def _entry(data: memoryview, labels: dict[str, str], number: int, decoded: Decoded) -> Entry | None:
    stamp: tuple[int, int] | None = None
    line = ""
    metadata: dict[str, Any] = {}
    for field, wire, value in fields(data):
        if wire != LENGTH or isinstance(value, int):
            continue
        if field == _TIMESTAMP:
            stamp = _timestamp(value)
        elif field == _LINE:
            line, invalid = decode_text(bytes(value))
            decoded.invalid_utf8 += invalid
        elif field == _METADATA:
            name, item = _pair(value)
            if name:
                metadata[name] = item
    if stamp is None:
        decoded.skip(f"stream {number}: an entry has no timestamp")
        return None
    seconds, nanos = stamp
    # As the JSON body's nanosecond string is read, to the same microsecond.
    moment = from_epoch((seconds * 10**9 + nanos) / 1e9) if abs(seconds) < 10**11 else None
    if moment is None:
        decoded.skip(f"stream {number}: timestamp {seconds}s is out of range")
        return None
    return entry_of(line, moment, labels, metadata)


def _timestamp(data: memoryview) -> tuple[int, int]:
    seconds = nanos = 0
    for field, wire, value in fields(data):
        if wire == VARINT and isinstance(value, int):
            if field == _SECONDS:
                seconds = _signed(value)
            elif field == _NANOS:
                nanos = _signed(value)
    return seconds, nanos


def _pair(data: memoryview) -> tuple[str, str]:
    name = item = ""
    for field, wire, value in fields(data):
        if wire == LENGTH and not isinstance(value, int):
            if field == _NAME:
                name = _text(value)
            elif field == _VALUE:
                item = _text(value)
    return name, item


def _signed(value: int) -> int:
    """An ``int64``/``int32`` varint: negatives are sent as 64-bit two's complement."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(value: memoryview) -> str:
    return bytes(value).decode("utf-8", errors="replace")
