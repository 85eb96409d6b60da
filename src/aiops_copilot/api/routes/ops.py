"""Operating the server: health, readiness, metrics, and a flush that closes the window now.

``/healthz`` says the process answers (liveness: restart me if not); ``/readyz`` says it can
do its work — the store answers and the ingest worker runs (readiness: send me traffic).
Neither needs the token. ``POST /v1/flush`` feeds everything accepted so far and analyses
the window at once: for tests and scripts that must see incidents now rather than when the
window is due; it needs the token like any other endpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from aiops_copilot.api.errors import ApiError, documented
from aiops_copilot.api.metrics import CONTENT_TYPE
from aiops_copilot.api.queries import ping
from aiops_copilot.api.state import server
from aiops_copilot.store.location import StoreError

health_router = APIRouter(tags=["health"])
router = APIRouter(tags=["operations"])
#: Seconds a flush may take before the request gives up waiting (the flush goes on).
FLUSH_TIMEOUT = 600.0


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str = Field(description="ready or not ready")
    checks: dict[str, str] = Field(description="each check: ok, or what is wrong")


class Flushed(BaseModel):
    records: int = Field(description="records the window analysed")
    incidents: int
    new: list[str]
    reopened: list[str]
    updated: list[str]
    seconds: float


@health_router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"description": "Not ready", "model": Ready}},
    summary="Readiness: store reachable, ingest worker alive",
)
async def readyz(request: Request) -> JSONResponse:
    state = server(request)
    checks: dict[str, str] = {}
    queue = state.queue
    checks["ingest_worker"] = "ok" if queue is not None and queue.alive else "not running"
    if state.store is None:
        checks["store"] = "ok" if not state.settings.store.enabled else "not open"
    else:
        store = state.store
        try:
            await run_in_threadpool(lambda: ping(store))
            checks["store"] = "ok"
        except StoreError as exc:
            checks["store"] = str(exc)
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {CONTENT_TYPE: {}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    state = server(request)
    body = await run_in_threadpool(state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


@router.post(
    "/v1/flush",
    response_model=Flushed,
    responses=documented(401, 503),
    summary="Analyse the current window now",
)
async def flush(request: Request) -> dict[str, Any]:
    """Waits until every record accepted before this call is analysed and stored."""
    queue = server(request).queue
    if queue is None:
        raise ApiError(503, "the server is starting or stopping; retry shortly")
    try:
        window = await asyncio.wait_for(
            run_in_threadpool(queue.flush, FLUSH_TIMEOUT), FLUSH_TIMEOUT + 5
        )
    except TimeoutError:
        raise ApiError(503, "the flush is still running; ask again later") from None
    except RuntimeError as exc:
        raise ApiError(503, str(exc)) from None
    return {
        "records": int(getattr(window, "records", 0)),
        "incidents": len(window.result.incidents),
        "new": list(getattr(window, "new", [])),
        "reopened": list(getattr(window, "reopened", [])),
        "updated": list(getattr(window, "updated", [])),
        "seconds": round(float(getattr(window, "seconds", 0.0)), 3),
    }
