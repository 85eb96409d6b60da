"""The application factory: one :class:`ServeOptions` in, one FastAPI app out.

The server's state (store, live pipeline, ingest queue, syslog listeners) opens when the app
starts and closes when it stops (FastAPI's lifespan), so building an app is cheap and a test
can run several side by side. Errors are answered by the handlers in :mod:`errors` in one
line each; request bodies are limited by :class:`~aiops_copilot.api.body.BodyLimit` before
any handler sees them. The interactive docs pages are off (they load scripts from a CDN);
``/openapi.json`` is served, behind the token like everything but health.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from aiops_copilot import __version__
from aiops_copilot.api import errors
from aiops_copilot.api.auth import bearer, token_guard
from aiops_copilot.api.body import BodyLimit
from aiops_copilot.api.options import ServeOptions
from aiops_copilot.api.routes import analyze, incidents, ingest, ops
from aiops_copilot.api.state import ServerState

DESCRIPTION = """\
Receive logs from shippers (NDJSON/text, Loki push, Elasticsearch bulk, OTLP/HTTP JSON),
analyse them continuously in windows, and read the incidents found. See docs/api.md."""


def create_app(options: ServeOptions) -> FastAPI:
    """The API for ``options``; its state starts and stops with the app."""
    state = ServerState(options)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.start)
        try:
            yield
        finally:
            await run_in_threadpool(state.stop)

    app = FastAPI(
        title="AI Ops Copilot",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.server = state
    guarded: list[Any] = []
    if options.token:
        guarded = [Depends(bearer), Depends(token_guard(options.token))]
    app.include_router(ops.health_router)
    for router in (ingest.router, incidents.router, analyze.router, ops.router):
        app.include_router(router, dependencies=guarded)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_exception_handler(ClientDisconnect, errors.client_gone)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(Exception, errors.unexpected_error)
    app.add_middleware(BodyLimit, limit_for=_limits(options))
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, saying what the server really answers: a bad parameter or body is
    a 400 with one line (``errors.validation_error``), never FastAPI's 422 list."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None or operation.get("parameters"):
                responses.setdefault("400", {"description": "Malformed request (says what)."})
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document


def _limits(options: ServeOptions) -> Any:
    def limit_for(path: str) -> int:
        return options.max_upload_bytes if path == "/v1/analyze" else options.max_body_bytes

    return limit_for
