"""``POST /v1/otlp/logs``: an OTLP/HTTP JSON ``ExportLogsServiceRequest`` (protobuf:
:mod:`.otlp_proto`).

``resourceLogs[].resource.attributes`` (``service.name``, ``host.name`` ...) and
``scopeLogs[].logRecords[]`` (``timeUnixNano``, ``severityNumber``/``severityText``, ``body``,
``attributes``, ``traceId``/``spanId``) become records: a string body is parsed like a file
line (the filelog receiver often ships raw lines), a map body is a structured record, the
record's severity and time fill what the line does not say, and its trace id joins the
session detector's keys. Field names are accepted in lowerCamelCase (the OTLP JSON encoding)
and in the proto's snake_case.

A record that is not an object is rejected and reported in ``partialSuccess``, as the
protocol asks; a body that is not this shape at all is refused (400).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aiops_copilot.api.decode.common import Builder, Decoded, Entry, decode_text
from aiops_copilot.api.decode.labels import FILE, HOST, SERVICE, first
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.formats._util import level_of
from aiops_copilot.ingest.timeparse import from_epoch
from aiops_copilot.models import Level

#: OTLP severity numbers (1..24, four per level) onto our scale.
_SEVERITY = (Level.TRACE, Level.DEBUG, Level.INFO, Level.WARNING, Level.ERROR, Level.CRITICAL)
#: How deep nested attribute values are followed (deeper ones are shown as text).
_MAX_DEPTH = 8


def decode_otlp(data: bytes, builder: Builder) -> Decoded:
    text, _ = decode_text(data)
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, "body is not valid JSON (OTLP ExportLogsServiceRequest)") from None
    return decode_request(body, builder)


def decode_request(body: Any, builder: Builder) -> Decoded:
    """An ``ExportLogsServiceRequest`` in its JSON mapping (also what the protobuf decoder
    turns a binary one into)."""
    resources = _get(body, "resourceLogs", "resource_logs") if isinstance(body, dict) else None
    if not isinstance(resources, list):
        raise ApiError(400, 'body must be a JSON object with a "resourceLogs" list (OTLP logs)')
    decoded = Decoded()
    by_source: dict[str, list[Entry]] = defaultdict(list)
    for resource_logs in resources:
        if not isinstance(resource_logs, dict):
            decoded.skip("a resourceLogs item is not an object")
            continue
        resource = _get(resource_logs, "resource") or {}
        common = _attributes(resource.get("attributes") if isinstance(resource, dict) else None)
        for scope_logs in _list(_get(resource_logs, "scopeLogs", "scope_logs")):
            if not isinstance(scope_logs, dict):
                decoded.skip("a scopeLogs item is not an object")
                continue
            for item in _list(_get(scope_logs, "logRecords", "log_records")):
                if not isinstance(item, dict):
                    decoded.skip("a logRecord is not an object")
                    continue
                entry = _entry(item, common)
                source = first(entry.fields, FILE) or f"otlp/{entry.service or 'unknown'}"
                by_source[source].append(entry)
    for source, entries in by_source.items():
        builder.batch(source, entries, decoded)
    return decoded


def _entry(item: dict[str, Any], common: dict[str, Any]) -> Entry:
    fields = dict(common)
    fields.update(_attributes(item.get("attributes")))
    for key, name in (("traceId", "trace_id"), ("spanId", "span_id")):
        value = _get(item, key, name)
        if isinstance(value, str) and value.strip("0"):
            fields[name] = value
    body = _value(item.get("body"))
    data = body if isinstance(body, dict) else None
    if data is not None:
        text = json.dumps(data, ensure_ascii=False, default=str)
    else:
        text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    moment = _nanos(_get(item, "timeUnixNano", "time_unix_nano"))
    if moment is None:
        moment = _nanos(_get(item, "observedTimeUnixNano", "observed_time_unix_nano"))
    return Entry(
        text=text,
        timestamp=moment,
        level=_level(item),
        host=first(fields, HOST),
        service=first(fields, SERVICE),
        fields=fields,
        data=data,
    )


def _level(item: dict[str, Any]) -> Level:
    number = _get(item, "severityNumber", "severity_number")
    if isinstance(number, str) and number.isdigit() and len(number) <= 2:
        number = int(number)
    if isinstance(number, str) and number.startswith("SEVERITY_NUMBER_"):
        number = number.removeprefix("SEVERITY_NUMBER_").rstrip("0123456789")
        return level_of(number)
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 24:
        return _SEVERITY[(number - 1) // 4]
    text = _get(item, "severityText", "severity_text")
    return level_of(text) if isinstance(text, str) else Level.UNKNOWN


def _nanos(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return from_epoch(value / 1e9)
    return None


def _attributes(items: Any) -> dict[str, Any]:
    """``[{"key": k, "value": AnyValue}]`` as a plain mapping."""
    out: dict[str, Any] = {}
    for item in _list(items):
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = _value(item.get("value"))
    return out


def _value(value: Any, depth: int = 0) -> Any:
    """An OTLP ``AnyValue`` as a plain JSON value."""
    if not isinstance(value, dict):
        return value if isinstance(value, str | int | float | bool) or value is None else None
    if depth > _MAX_DEPTH:
        return json.dumps(value)[:1000]
    for key in ("stringValue", "string_value"):
        if key in value:
            return value[key] if isinstance(value[key], str) else str(value[key])
    for key in ("boolValue", "bool_value", "doubleValue", "double_value"):
        if key in value:
            return value[key]
    for key in ("intValue", "int_value"):
        if key in value:
            raw = value[key]
            digits = isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20
            return int(raw) if digits else raw
    for key in ("bytesValue", "bytes_value"):
        if key in value:
            return value[key]
    array = _get(value, "arrayValue", "array_value")
    if isinstance(array, dict):
        return [_value(v, depth + 1) for v in _list(array.get("values"))]
    kvlist = _get(value, "kvlistValue", "kvlist_value")
    if isinstance(kvlist, dict):
        return {
            str(kv["key"]): _value(kv.get("value"), depth + 1)
            for kv in _list(kvlist.get("values"))
            if isinstance(kv, dict) and "key" in kv
        }
    return None


def _get(mapping: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
