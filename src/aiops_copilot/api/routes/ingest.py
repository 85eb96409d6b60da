"""The ingestion endpoints: ``/v1/logs``, Loki push, Elasticsearch bulk, OTLP/HTTP JSON.

Each reads its body (size-limited, gzip undone), decodes it on a worker thread (parsing is
CPU work and must not stall the event loop, where health checks are answered), and offers
the records to the ingest queue whole: accepted (2xx, counted per endpoint) or refused with
429 and ``Retry-After`` — the sender keeps them and retries, nothing is dropped in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from aiops_copilot.api.body import inflate, is_protobuf, json_only, media_type
from aiops_copilot.api.decode.common import Builder, Decoded
from aiops_copilot.api.decode.elastic import BulkRequest, decode_bulk
from aiops_copilot.api.decode.lines import JSON_TYPES, decode_logs
from aiops_copilot.api.decode.loki import decode_loki
from aiops_copilot.api.decode.loki_proto import decode_loki_proto
from aiops_copilot.api.decode.otlp import decode_otlp
from aiops_copilot.api.decode.otlp_proto import PROTOBUF, decode_otlp_proto, response_bytes
from aiops_copilot.api.errors import ApiError, documented
from aiops_copilot.api.schemas import BULK_BODY, LOGS_BODY, LOKI_BODY, OTLP_BODY
from aiops_copilot.api.state import server
from aiops_copilot.ingest.formats import format_names

router = APIRouter(tags=["ingest"])
ERRORS = documented(400, 401, 413, 415, 429)
ES_VERSION = "8.11.0"
_REASONS = {400: "malformed", 413: "too_large", 415: "unsupported", 429: "queue_full"}


class Accepted(BaseModel):
    """What ``/v1/logs`` took: queued for the live pipeline, analysed in the next window."""

    accepted: int = Field(description="records queued")
    skipped: int = Field(0, description="entries that could not be used")
    cut_lines: int = Field(0, description="lines cut at ingest.max_line_bytes")
    invalid_utf8: int = Field(0, description="bytes that were not UTF-8 (replaced)")


async def ingest(
    request: Request,
    endpoint: str,
    decode: Callable[[bytes, Builder], Any],
    *,
    forced_format: str | None = None,
) -> Any:
    """Read, decode, offer; count every outcome under ``endpoint``. Returns what ``decode``
    returned (a :class:`Decoded`, or something carrying one as ``decoded``)."""
    state = server(request)
    metrics = state.metrics
    try:
        body = await request.body()
        data = inflate(body, request.headers.get("content-encoding"), state.options.max_body_bytes)
        outcome = await run_in_threadpool(decode, data, state.builder(forced_format))
        decoded: Decoded = getattr(outcome, "decoded", outcome)
        queue = state.queue
        if queue is None:
            raise ApiError(503, "the server is starting or stopping; retry shortly")
        if not queue.offer(decoded.batches):
            metrics.rejected_records.labels(endpoint=endpoint).inc(decoded.records)
            raise ApiError(
                429,
                f"ingest queue full ({queue.depth:,} records waiting); retry later",
                headers={"Retry-After": str(queue.retry_after())},
            )
    except ApiError as exc:
        reason = _REASONS.get(exc.status_code, "other")
        metrics.rejected.labels(endpoint=endpoint, reason=reason).inc()
        raise
    metrics.ingested.labels(endpoint=endpoint).inc(decoded.records)
    for reason, count in (
        ("malformed", decoded.skipped),
        ("cut_line", decoded.cut_lines),
        ("invalid_utf8", decoded.invalid_utf8),
    ):
        if count:
            metrics.skipped.labels(endpoint=endpoint, reason=reason).inc(count)
    if decoded.skipped and state.pipeline is not None:
        state.pipeline.note_parse_errors(decoded.skipped)
    return outcome


@router.post(
    "/v1/logs",
    status_code=202,
    response_model=Accepted,
    responses=ERRORS,
    openapi_extra=LOGS_BODY,
    summary="Push log lines: NDJSON or plain text",
)
async def push_logs(
    request: Request,
    source: Annotated[
        str, Query(max_length=512, description="Name the lines are cited under.")
    ] = "http",
    service: Annotated[
        str | None, Query(max_length=256, description="Service, when lines do not say.")
    ] = None,
    log_format: Annotated[
        str | None,
        Query(alias="format", max_length=64, description="Force a format (aiops formats)."),
    ] = None,
) -> Accepted:
    """Newline-delimited JSON (``application/x-ndjson``/``application/json``: one object per
    line, or an array) or plain log lines (``text/plain``, or no Content-Type), parsed as
    ``aiops analyze`` parses a file. A protobuf body is OTLP/HTTP logs (this is OTLP's
    default path), answered in protobuf."""
    if log_format is not None and log_format not in format_names():
        raise ApiError(400, f"unknown format {log_format!r}; known: {', '.join(format_names())}")
    kind = media_type(request.headers.get("content-type"))
    if is_protobuf(kind):  # OTLP/HTTP's default path for logs is this one
        return await _otlp_protobuf(request)  # type: ignore[return-value]
    name = source.strip() or "http"

    def decode(data: bytes, builder: Builder) -> Decoded:
        return decode_logs(data, kind, source=name, service=service, builder=builder)

    decoded: Decoded = await ingest(request, "logs", decode, forced_format=log_format)
    return Accepted(
        accepted=decoded.records,
        skipped=decoded.skipped,
        cut_lines=decoded.cut_lines,
        invalid_utf8=decoded.invalid_utf8,
    )


@router.post(
    "/loki/api/v1/push",
    status_code=204,
    response_class=Response,
    responses=ERRORS,
    openapi_extra=LOKI_BODY,
    summary="Loki push API (JSON or snappy protobuf)",
)
async def loki_push(request: Request) -> Response:
    """Loki's push body: JSON (Fluent Bit, Vector) or snappy-compressed protobuf (Promtail,
    Grafana Alloy's ``loki.write``)."""
    kind = media_type(request.headers.get("content-type"))
    limit = server(request).options.max_body_bytes
    # Loki's protobuf body is snappy without saying so; a sender that says it was undone.
    still_snappy = (request.headers.get("content-encoding") or "").strip().lower() != "snappy"

    def decode(data: bytes, builder: Builder) -> Decoded:
        if is_protobuf(kind):
            return decode_loki_proto(data, builder, limit=limit, compressed=still_snappy)
        json_only(kind, ("application/json",), "Fluent Bit loki output, Vector loki sink")
        return decode_loki(data, builder)

    await ingest(request, "loki", decode)
    return Response(status_code=204)


@router.post(
    "/_bulk",
    responses=ERRORS,
    openapi_extra=BULK_BODY,
    summary="Elasticsearch bulk API",
)
async def bulk(request: Request) -> dict[str, Any]:
    """Action and document lines, answered in the bulk API's shape."""
    return await _bulk(request, None)


@router.post(
    "/{index}/_bulk",
    responses=ERRORS,
    openapi_extra=BULK_BODY,
    summary="Elasticsearch bulk API, default index in the path",
)
async def bulk_index(request: Request, index: str) -> dict[str, Any]:
    return await _bulk(request, index)


async def _bulk(request: Request, index: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    kind = media_type(request.headers.get("content-type"))

    def decode(data: bytes, builder: Builder) -> BulkRequest:
        json_only(kind, (*JSON_TYPES, "text/plain"), "application/x-ndjson")
        return decode_bulk(data, builder, index=index)

    request_items: BulkRequest = await ingest(request, "elasticsearch", decode)
    return {
        "took": int((time.perf_counter() - started) * 1000),
        "errors": request_items.errors,
        "items": request_items.items,
    }


@router.post(
    "/v1/otlp/logs",
    responses=ERRORS,
    openapi_extra=OTLP_BODY,
    summary="OTLP/HTTP logs (JSON or protobuf)",
)
async def otlp_logs(request: Request) -> Any:
    """An ``ExportLogsServiceRequest`` in OTLP's JSON or protobuf encoding, answered in the
    same encoding."""
    kind = media_type(request.headers.get("content-type"))
    if is_protobuf(kind):
        return await _otlp_protobuf(request)

    def decode(data: bytes, builder: Builder) -> Decoded:
        json_only(kind, ("application/json",), "otlphttp exporter: encoding: json")
        return decode_otlp(data, builder)

    decoded: Decoded = await ingest(request, "otlp", decode)
    if decoded.skipped:
        return {
            "partialSuccess": {
                "rejectedLogRecords": str(decoded.skipped),
                "errorMessage": decoded.problem or "malformed log records",
            }
        }
    return {}


async def _otlp_protobuf(request: Request) -> Response:
    """OTLP/HTTP in protobuf (the Collector's default), on ``/v1/otlp/logs`` and on OTLP's
    own default path ``/v1/logs``: the answer is a protobuf ``ExportLogsServiceResponse``."""
    decoded: Decoded = await ingest(request, "otlp", decode_otlp_proto)
    return Response(response_bytes(decoded), media_type=PROTOBUF)


@router.head("/", include_in_schema=False)
@router.get("/", summary="Elasticsearch version information (shippers probe it)")
async def es_root() -> dict[str, Any]:
    """What Vector, Filebeat and Fluent Bit read to learn the server's API version."""
    return {
        "name": "aiops",
        "cluster_name": "aiops-copilot",
        "cluster_uuid": "aiops-copilot",
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "docker",
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }


@router.get("/_cluster/health", summary="Elasticsearch cluster health (Vector's health check)")
async def es_health() -> dict[str, Any]:
    return {"cluster_name": "aiops-copilot", "status": "green", "timed_out": False}


@router.get("/_license", summary="Elasticsearch licence (Filebeat checks it on connect)")
async def es_license() -> dict[str, Any]:
    return {
        "license": {
            "status": "active",
            "uid": "aiops-copilot",
            "type": "basic",
            "mode": "basic",
            "issue_date_in_millis": 0,
            "max_nodes": 1000,
            "issued_to": "aiops-copilot",
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
    }
