"""``POST /v1/analyze``: upload a log file, get ``aiops analyze --format json``'s report.

Multipart (field ``file``, as ``curl -F file=@app.log`` sends it) or the raw bytes as the
body (``curl --data-binary @app.log``; ``?name=app.log`` names it). The upload is spooled to
disk as it arrives (bounded by ``max_upload_bytes``), and analysed on the server's analysis
pool; when that pool is busy and its waiting list full, the answer is 429.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from aiops_copilot.api.body import media_type
from aiops_copilot.api.errors import ApiError, documented
from aiops_copilot.api.schemas import ANALYZE_BODY
from aiops_copilot.api.state import server
from aiops_copilot.api.upload import Spool, analyze_upload, safe_name
from aiops_copilot.ingest.formats import format_names

router = APIRouter(tags=["analyze"])
_CHUNK = 1024 * 1024


@router.post(
    "/v1/analyze",
    responses={
        200: {"description": "The report: the JSON contract of aiops analyze --format json."},
        **documented(400, 401, 413, 429),
    },
    openapi_extra=ANALYZE_BODY,
    response_class=Response,
    summary="Analyse an uploaded log file",
)
async def analyze(
    request: Request,
    name: Annotated[str | None, Query(max_length=255, description="File name to cite.")] = None,
    log_format: Annotated[
        str | None, Query(alias="format", max_length=64, description="Force the log format.")
    ] = None,
    store: Annotated[bool, Query(description="Record it in the store, like analyze.")] = False,
) -> Response:
    if log_format is not None and log_format not in format_names():
        raise ApiError(400, f"unknown format {log_format!r}; known: {', '.join(format_names())}")
    state = server(request)
    if state.kb is None:
        raise ApiError(503, "the server is starting; retry shortly")
    if not state.try_reserve_analysis():
        raise ApiError(429, "analyses busy; retry later", headers={"Retry-After": "5"})
    spool = Spool()
    try:
        filename = await _receive(request, spool)
        spool.finish()
        cited = safe_name(name or filename)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        kb = state.kb
        memory = state.pipeline.memory if state.pipeline is not None else None
        result = await loop.run_in_executor(
            state.analyses,
            lambda: analyze_upload(
                spool.path,
                cited,
                state.settings,
                kb,
                store=state.store,
                forced_format=log_format,
                record=store,
                memory=memory,
            ),
        )
        state.metrics.analysis.labels(kind="upload").observe(time.perf_counter() - started)
        state.metrics.observe_analysis(result.summary)
    finally:
        spool.close()
        state.release_analysis()
    from aiops_copilot.report.incidents_json import render_json

    return Response(render_json(result, indent=None), media_type="application/json")


async def _receive(request: Request, spool: Spool) -> str | None:
    """Write the upload to ``spool``; the multipart file name, if one was given."""
    if media_type(request.headers.get("content-type")) == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        try:
            upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
            if upload is None:
                raise ApiError(400, "multipart body has no file part (use -F file=@app.log)")
            while chunk := await upload.read(_CHUNK):
                spool.write(chunk)
            return upload.filename
        finally:
            await form.close()
    async for chunk in request.stream():
        spool.write(chunk)
    if spool.size == 0:
        raise ApiError(400, "empty body: send the log file (multipart field file, or raw)")
    return None
