"""Just enough of protobuf's wire format to read a small, fixed message (Loki's push).

Why hand-written: Loki publishes its push message only as a ``.proto`` file inside a Go
module; no maintained Python package carries it. The four messages it needs use two wire
types (varint and length-delimited), and reading them is a few lines, with every length
checked against what is left, so a truncated or hostile body is a :class:`WireError`, never an
exception from deep inside, an endless loop or a huge allocation. OTLP, whose messages are
large and recursive, is read with the ``opentelemetry-proto`` package instead.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["LENGTH", "VARINT", "WireError", "fields"]

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
#: A varint is at most ten bytes (64 bits, seven per byte).
_MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    """The varint starting at ``at`` and the offset after it."""
    value = shift = 0
    for index in range(at, min(at + _MAX_VARINT_BYTES, len(data))):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    raise WireError("a varint runs past the end of the message or is too long")


def fields(data: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """``(field number, wire type, value)`` for each field of one message, in order: an
    ``int`` for varints, the raw bytes (a view, not a copy) for the other wire types."""
    view = memoryview(data)
    at, end = 0, len(view)
    while at < end:
        key, at = read_varint(view, at)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == VARINT:
            value, at = read_varint(view, at)
            yield number, wire, value
            continue
        if wire == LENGTH:
            size, at = read_varint(view, at)
        elif wire == FIXED64:
            size = 8
        elif wire == FIXED32:
            size = 4
        else:
            raise WireError(f"unsupported wire type {wire} (field {number})")
        if size > end - at:
            raise WireError(f"field {number} runs past the end of the message")
        yield number, wire, view[at : at + size]
        at += size
