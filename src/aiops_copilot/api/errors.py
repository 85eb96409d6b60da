"""Every error the API answers, as one clear sentence in the shape the caller understands.

Log shippers log the body of a failed request and little else, so each endpoint family gets
its own shape: Elasticsearch clients expect ``{"error": {"type", "reason"}, "status"}``, OTLP
exporters a ``google.rpc.Status`` (``{"code", "message"}``), everyone else
``{"error": "..."}``. A 5xx is reserved for the server's own trouble (a store it cannot
reach); anything the request did wrong is a 4xx saying what.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

#: google.rpc.Code values for the OTLP error body.
_GRPC_CODES = {400: 3, 401: 16, 404: 5, 413: 8, 415: 3, 429: 8, 503: 14}
_ES_TYPES = {
    400: "illegal_argument_exception",
    401: "security_exception",
    413: "content_too_long_exception",
    415: "media_type_header_exception",
    429: "es_rejected_execution_exception",
}


class ApiError(HTTPException):
    """A request the API refuses, with the one-line reason the caller sees."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(headers or {}))
        self.message = message


def error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """The error body for an endpoint: Elasticsearch, OTLP or the plain shape."""
    if path.endswith("/_bulk") or path in ("/", "/_cluster/health", "/_license"):
        kind = _ES_TYPES.get(status, "exception")
        return {"error": {"type": kind, "reason": message}, "status": status}
    if path == "/v1/otlp/logs":
        return {"code": _GRPC_CODES.get(status, 2), "message": message}
    return {"error": message}


def error_response(
    path: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(path, status, message), status_code=status, headers=headers)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(request.url.path, exc.status_code, message, exc.headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 list becomes one 400 line naming the first bad parameter."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(request.url.path, 400, "invalid request")
    first = errors[0]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "JSON decode error")
        return error_response(request.url.path, 400, f"body is not valid JSON: {reason}")
    where = " ".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return error_response(request.url.path, 400, message)


async def client_gone(request: Request, exc: Exception) -> JSONResponse:
    """The client hung up mid-body: nothing was taken, nobody is left to answer."""
    logger.info("{} {}: client disconnected before the body was read", request.method,
                request.url.path)  # fmt: skip
    return error_response(request.url.path, 400, "client disconnected before the body ended")


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug must still answer in one line (and be logged with its traceback)."""
    logger.opt(exception=exc).error("{} {} failed", request.method, request.url.path)
    return error_response(
        request.url.path, 500, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
    )


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route may answer."""
    texts = {
        400: "Malformed request (the body says what).",
        401: "Missing or wrong API token.",
        404: "No such incident.",
        413: "Body over the size limit.",
        415: "Unsupported Content-Type or Content-Encoding.",
        429: "Ingest queue full: retry after Retry-After seconds.",
        503: "Store unreachable or server not ready.",
    }
    return {code: {"description": texts[code]} for code in codes}
