"""OTLP/HTTP logs in protobuf, the OpenTelemetry Collector's default encoding.

The binary ``ExportLogsServiceRequest`` is read with the ``opentelemetry-proto`` package (the
project's own generated classes; the ``serve`` extra installs it) and turned into the JSON
mapping that :func:`.otlp.decode_request` already reads, so both encodings give the same
records. The mapping differs from OTLP's JSON encoding in one place, fixed here: trace and
span ids are bytes, which the generic mapping writes in base64 and OTLP's JSON in hex.

The answer is an ``ExportLogsServiceResponse`` in protobuf too, with ``partial_success``
counting the records that could not be used, as the protocol asks.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiops_copilot.api.decode.common import Builder, Decoded
from aiops_copilot.api.decode.otlp import decode_request
from aiops_copilot.api.errors import ApiError

__all__ = ["PROTOBUF", "decode_otlp_proto", "decode_parsed", "parse_request", "response_bytes"]

#: The media type OTLP/HTTP uses for protobuf, in requests and answers.
PROTOBUF = "application/x-protobuf"
_IDS = ("traceId", "spanId")


def decode_otlp_proto(data: bytes, builder: Builder) -> Decoded:
    return decode_parsed(parse_request(data), builder)


def parse_request(data: bytes) -> Any:
    """The ``ExportLogsServiceRequest`` in ``data`` (400 when it is not one)."""
    from google.protobuf.message import DecodeError

    request = _service().ExportLogsServiceRequest()
    try:
        request.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError):
        raise ApiError(400, "body is not an OTLP ExportLogsServiceRequest (protobuf)") from None
    return request


def decode_parsed(request: Any, builder: Builder) -> Decoded:
    """The records of a parsed request (for a caller that looked at it first)."""
    from google.protobuf.json_format import MessageToDict

    body = MessageToDict(request, use_integers_for_enums=True)
    body.setdefault("resourceLogs", [])
    for resource_logs in body["resourceLogs"]:
        for scope_logs in resource_logs.get("scopeLogs", ()):
            for record in scope_logs.get("logRecords", ()):
                _ids_to_hex(record)
    return decode_request(body, builder)


def response_bytes(decoded: Decoded) -> bytes:
    """The ``ExportLogsServiceResponse`` for this request, serialised."""
    service = _service()
    response = service.ExportLogsServiceResponse()
    if decoded.skipped:
        response.partial_success.rejected_log_records = decoded.skipped
        response.partial_success.error_message = decoded.problem or "malformed log records"
    return bytes(response.SerializeToString())


def _service() -> Any:
    try:
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    except ImportError:  # pragma: no cover - installed with the serve extra
        raise ApiError(
            415,
            "OTLP protobuf needs the opentelemetry-proto package: "
            "pip install 'aiops-copilot[serve]', or send JSON (encoding: json)",
        ) from None
    return logs_service_pb2


def _ids_to_hex(record: dict[str, Any]) -> None:
    for key in _IDS:
        value = record.get(key)
        if isinstance(value, str):
            try:
                record[key] = base64.b64decode(value, validate=True).hex()
            except (binascii.Error, ValueError):
                record.pop(key)
