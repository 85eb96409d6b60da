"""Request bodies as the OpenAPI document describes them.

The ingestion and upload handlers read their bodies themselves (to enforce limits, undo
gzip and pick a decoder by media type), so FastAPI cannot infer these schemas; they are
written here, once, and they are what a client generator — or a property-based test —
works from.
"""

from __future__ import annotations

import json
from typing import Any

_STRING: dict[str, Any] = {"type": "string"}
_LABELS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}

LOKI_PUSH: dict[str, Any] = {
    "type": "object",
    "required": ["streams"],
    "properties": {
        "streams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stream", "values"],
                "properties": {
                    "stream": _LABELS,
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "minItems": 2,
                            "maxItems": 3,
                            "items": {},
                            "description": '["<unix epoch ns>", "<log line>", {metadata}?]',
                        },
                    },
                },
            },
        }
    },
}

_ANY_VALUE: dict[str, Any] = {
    "type": "object",
    "description": "OTLP AnyValue: stringValue, intValue, doubleValue, boolValue, "
    "arrayValue or kvlistValue",
    "properties": {
        "stringValue": _STRING,
        "intValue": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        "doubleValue": {"type": "number"},
        "boolValue": {"type": "boolean"},
    },
}
_ATTRIBUTES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["key"],
        "properties": {"key": _STRING, "value": _ANY_VALUE},
    },
}
OTLP_LOGS: dict[str, Any] = {
    "type": "object",
    "required": ["resourceLogs"],
    "properties": {
        "resourceLogs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "resource": {"type": "object", "properties": {"attributes": _ATTRIBUTES}},
                    "scopeLogs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "logRecords": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "timeUnixNano": _STRING,
                                            "observedTimeUnixNano": _STRING,
                                            "severityNumber": {"type": "integer"},
                                            "severityText": _STRING,
                                            "body": _ANY_VALUE,
                                            "attributes": _ATTRIBUTES,
                                            "traceId": _STRING,
                                            "spanId": _STRING,
                                        },
                                    },
                                }
                            },
                        },
                    },
                },
            },
        }
    },
}


def _body(content: dict[str, Any], description: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "description": description, "content": content}}


_LINE = "2026-11-24 10:00:00,123 ERROR payment failed: upstream timed out after 30s"
LOGS_BODY = _body(
    {
        "text/plain": {"schema": _STRING, "example": _LINE + "\n"},
        "application/x-ndjson": {
            "schema": _STRING,
            "example": '{"level": "error", "msg": "payment failed", "service": "checkout"}\n',
        },
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "array", "items": {"type": "object"}},
                ]
            }
        },
    },
    "Log lines (text/plain) or one JSON object per line (application/x-ndjson). "
    "Content-Encoding: gzip accepted.",
)
LOKI_BODY = _body(
    {
        "application/json": {
            "schema": LOKI_PUSH,
            "example": {
                "streams": [
                    {"stream": {"job": "checkout"}, "values": [["1763978400000000000", _LINE]]}
                ]
            },
        }
    },
    "Loki push request (JSON). Content-Encoding: gzip accepted; protobuf is refused (415).",
)
BULK_BODY = _body(
    {
        "application/x-ndjson": {
            "schema": _STRING,
            "example": '{"create": {"_index": "logs"}}\n' + json.dumps({"message": _LINE}) + "\n",
        }
    },
    "Elasticsearch bulk body: an action line, then a document line for index/create.",
)
OTLP_BODY = _body(
    {
        "application/json": {
            "schema": OTLP_LOGS,
            "example": {
                "resourceLogs": [
                    {
                        "resource": {
                            "attributes": [
                                {"key": "service.name", "value": {"stringValue": "checkout"}}
                            ]
                        },
                        "scopeLogs": [
                            {
                                "logRecords": [
                                    {
                                        "timeUnixNano": "1763978400000000000",
                                        "severityNumber": 17,
                                        "body": {"stringValue": "payment failed"},
                                    }
                                ]
                            }
                        ],
                    }
                ]
            },
        }
    },
    "OTLP ExportLogsServiceRequest, JSON encoding. Content-Encoding: gzip accepted.",
)
ANALYZE_BODY = _body(
    {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": _STRING},
    },
    "The log file: a multipart upload (field `file`) or the raw bytes (.gz/.bz2 too).",
)
