"""Loki's push messages built with the real protobuf library, to encode test bodies.

An encoder independent of the server's hand-written reader (:mod:`aiops_copilot.api.decode.
protowire`): the message layout is declared here from Loki's published ``push.proto``
(package ``logproto``) and serialised by ``google.protobuf``, as Promtail's Go code serialises
it; the body is then snappy-compressed (block format) as Promtail sends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

_F = descriptor_pb2.FieldDescriptorProto


def _field(name: str, number: int, kind: int, *, repeated: bool = False, of: str = "") -> Any:
    label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    field = _F(name=name, number=number, type=kind, label=label)
    if of:
        field.type_name = of
    return field


def _classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(timestamp_pb2.DESCRIPTOR.serialized_pb))
    push = descriptor_pb2.FileDescriptorProto(
        name="pkg/push/push.proto",
        package="logproto",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    push.message_type.add(
        name="PushRequest",
        field=[_field("streams", 1, _F.TYPE_MESSAGE, repeated=True, of=".logproto.StreamAdapter")],
    )
    push.message_type.add(
        name="StreamAdapter",
        field=[
            _field("labels", 1, _F.TYPE_STRING),
            _field("entries", 2, _F.TYPE_MESSAGE, repeated=True, of=".logproto.EntryAdapter"),
            _field("hash", 3, _F.TYPE_UINT64),
        ],
    )
    push.message_type.add(
        name="EntryAdapter",
        field=[
            _field("timestamp", 1, _F.TYPE_MESSAGE, of=".google.protobuf.Timestamp"),
            _field("line", 2, _F.TYPE_STRING),
            _field(
                "structuredMetadata",
                3,
                _F.TYPE_MESSAGE,
                repeated=True,
                of=".logproto.LabelPairAdapter",
            ),
        ],
    )
    push.message_type.add(
        name="LabelPairAdapter",
        field=[_field("name", 1, _F.TYPE_STRING), _field("value", 2, _F.TYPE_STRING)],
    )
    pool.Add(push)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"logproto.{name}"))
        for name in ("PushRequest", "StreamAdapter", "EntryAdapter", "LabelPairAdapter")
    }


CLASSES = _classes()

#: One stream: its labels and its entries as (unix nanoseconds, line, structured metadata).
Stream = tuple[Mapping[str, str], Sequence[tuple[int, str, Mapping[str, str]]]]


_NAMED = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}


def go_quote(value: str) -> str:
    """A label value quoted as Go's ``strconv.Quote`` does (Promtail's labels' ``String()``)."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char in _NAMED:
            out.append("\\" + _NAMED[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif not char.isprintable() and char != " ":
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def selector(labels: Mapping[str, str]) -> str:
    """Labels as Loki writes them in a stream: ``{job="app", host="web-1"}``."""
    return "{" + ", ".join(f"{key}={go_quote(value)}" for key, value in labels.items()) + "}"


def push_request(streams: Sequence[Stream]) -> bytes:
    """The serialised, uncompressed ``PushRequest``."""
    request = CLASSES["PushRequest"]()
    for labels, entries in streams:
        stream = request.streams.add(labels=selector(labels), hash=len(labels))
        for nanos, line, metadata in entries:
            entry = stream.entries.add(line=line)
            entry.timestamp.seconds, entry.timestamp.nanos = divmod(nanos, 1_000_000_000)
            for name, value in metadata.items():
                entry.structuredMetadata.add(name=name, value=value)
    return bytes(request.SerializeToString())


def promtail_body(streams: Sequence[Stream]) -> bytes:
    """What Promtail posts: the request, snappy-compressed in the block format."""
    return bytes(cramjam.snappy.compress_raw(push_request(streams)))
