"""The read API over the store, feedback and resolving: the same incidents ``aiops incidents``
shows.

Bodies are the CLI's JSON (``store/views.py``): a list item is ``aiops incidents list
--format json``'s item, an incident is ``aiops incidents show --format json``. Feedback has
the semantics of ``aiops feedback`` (``store/feedback.py``): ``domain`` reroutes, ``merge``
and ``split`` change grouping, ``wrong`` alone lowers the weight of the signatures that raised
it, ``correct`` is kept as a confirmation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from aiops_copilot.api.errors import ApiError, documented
from aiops_copilot.api.queries import IncidentFilter, list_incidents
from aiops_copilot.api.state import server
from aiops_copilot.store.durations import HELP as WHEN_HELP
from aiops_copilot.store.durations import cutoff
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.sql import Store, UnknownIncident
from aiops_copilot.store.views import detail_to_dict, summary_to_dict

router = APIRouter(tags=["incidents"])

StatusName = Literal["open", "resolved", "recurred"]
DomainName = Literal[
    "database", "network", "application", "security", "infrastructure", "integration"
]
SeverityName = Literal["critical", "high", "medium", "low", "info"]
IncidentId = Annotated[
    str, Path(min_length=1, max_length=64, description="Incident id or a unique prefix.")
]


class IncidentItem(BaseModel):
    id: str
    fingerprint: str
    domain: str | None
    severity: str
    title: str
    status: str
    times_seen: int
    first_seen_at: str | None
    last_seen_at: str | None
    log_first_seen: str | None
    log_last_seen: str | None
    resolved_at: str | None
    resolution_note: str | None


class IncidentPage(BaseModel):
    items: list[IncidentItem]
    total: int = Field(description="incidents matching the filters")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class FeedbackIn(BaseModel):
    """A verdict, as ``aiops feedback ID`` takes it."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["correct", "wrong"] | None = Field(None, description="the diagnosis was")
    domain: DomainName | None = Field(None, description="the right domain (reroutes)")
    merge: str | None = Field(None, max_length=64, description="id of the incident it belongs to")
    split: bool = Field(False, description="it lumps unrelated problems together")
    note: str | None = Field(None, max_length=4000, description="why, in your words")


class ResolveIn(BaseModel):
    """What ``aiops incidents resolve ID --note`` takes."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(
        min_length=1, max_length=4000, description="what fixed it (shown when it recurs)"
    )
    notify: bool = Field(True, description="tell the notify targets that were paged about it")


class ResolveOut(BaseModel):
    incident: IncidentItem
    remembered: bool = Field(description="vector memory keeps the note for similar incidents")
    notified: int = Field(description="notify targets the resolution was queued for")
    message: str | None = Field(None, description="why nobody was told, when that is news")


class RuleOut(BaseModel):
    fingerprint: str
    kind: str
    value: str
    weight: float


class FeedbackOut(BaseModel):
    incident_id: str
    feedback_ids: list[int]
    rules: list[RuleOut]


class TemplateItem(BaseModel):
    id: str
    template: str
    example: str
    total: int = Field(description="records counted (the same lines read twice count once)")
    runs: int = Field(description="analyses (windows) that saw it")
    new: bool = Field(description="first stored by the newest run (or since `since`)")
    first_seen_at: str | None
    last_seen_at: str | None
    log_first_seen: str | None
    log_last_seen: str | None


def _store(request: Request) -> Store:
    store = server(request).store
    if store is None:
        raise ApiError(503, "the server runs without a store (store.enabled = false)")
    return store


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return cutoff(text)
    except ValueError as exc:
        raise ApiError(400, f"since: {exc}") from None


async def _read(call: Any) -> Any:
    try:
        return await run_in_threadpool(call)
    except UnknownIncident as exc:
        raise ApiError(404, str(exc)) from None
    except StoreError as exc:
        raise ApiError(503, f"store: {exc}") from None


@router.get(
    "/v1/incidents",
    response_model=IncidentPage,
    responses=documented(400, 401, 503),
    summary="Stored incidents, most recently seen first",
)
async def incidents(
    request: Request,
    status: StatusName | None = None,
    domain: DomainName | None = None,
    severity: SeverityName | None = None,
    since: Annotated[
        str | None, Query(max_length=64, description=f"Seen since: {WHEN_HELP}.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    store = _store(request)
    where = IncidentFilter(status=status, domain=domain, severity=severity, since=_since(since))
    page = await _read(lambda: list_incidents(store, where, limit=limit, offset=offset))
    return {
        "items": [summary_to_dict(item) for item in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


@router.get(
    "/v1/incidents/{incident_id}",
    responses=documented(401, 404, 503),
    summary="One incident: latest diagnosis, occurrences, feedback",
)
async def incident(request: Request, incident_id: IncidentId) -> dict[str, Any]:
    """``aiops incidents show ID --format json``."""
    store = _store(request)
    detail = await _read(lambda: store.incident(incident_id))
    result: dict[str, Any] = detail_to_dict(detail)
    return result


@router.post(
    "/v1/incidents/{incident_id}/feedback",
    response_model=FeedbackOut,
    responses=documented(400, 401, 404, 503),
    summary="Tell the copilot whether an incident was right",
)
async def feedback(request: Request, incident_id: IncidentId, body: FeedbackIn) -> dict[str, Any]:
    """The rules it teaches apply from the next window (and the next ``aiops analyze``)."""
    if body.verdict == "correct" and (body.domain or body.merge or body.split):
        raise ApiError(400, "verdict correct cannot come with domain, merge or split")
    if body.merge and body.split:
        raise ApiError(400, "merge and split contradict each other")
    if not (body.verdict or body.domain or body.merge or body.split):
        raise ApiError(400, "say something: verdict, domain, merge or split")
    store = _store(request)

    def give() -> Any:
        try:
            return store.give_feedback(
                incident_id,
                verdict=body.verdict,
                domain=body.domain,
                merge_into=body.merge,
                split=body.split,
                note=body.note,
            )
        except UnknownIncident:
            raise
        except StoreError as exc:
            if "merged into itself" in str(exc):
                raise ApiError(400, str(exc)) from None
            raise

    outcome = await _read(give)
    return {
        "incident_id": outcome.incident_id,
        "feedback_ids": list(outcome.feedback_ids),
        "rules": [
            {"fingerprint": r.fingerprint, "kind": r.kind, "value": r.value, "weight": r.weight}
            for r in outcome.rules
        ],
    }


@router.post(
    "/v1/incidents/{incident_id}/resolve",
    response_model=ResolveOut,
    responses=documented(400, 401, 404, 503),
    summary="Mark an incident resolved, with what fixed it",
)
async def resolve(request: Request, incident_id: IncidentId, body: ResolveIn) -> dict[str, Any]:
    """``aiops incidents resolve ID --note N``: the store marks it resolved (it becomes
    "recurred" if it comes back), memory keeps the note for similar incidents, and the notify
    targets that were paged about it hear that it is over."""
    note = body.note.strip()
    if not note:
        raise ApiError(400, "note must say what fixed it")
    state = server(request)
    store = _store(request)
    notifier = state.notifier if body.notify else None

    def settle() -> tuple[Any, Any]:
        summary = store.resolve(incident_id, note)
        # Its newest report is read only for a notifier: the targets render the incident.
        return summary, store.incident(summary.id) if notifier is not None else None

    summary, detail = await _read(settle)
    memory = state.pipeline.memory if state.pipeline is not None else None
    remembered = False
    if memory is not None:
        remembered = await run_in_threadpool(memory.record_resolution, summary.fingerprint, note)
    notified, message = 0, None
    if notifier is not None:
        from aiops_copilot.notify.resolution import resolved_incident

        report = detail.occurrences[0].report if detail.occurrences else None
        incident = resolved_incident(summary, report)
        if isinstance(incident, str):
            message = incident
        else:
            notified = notifier.resolve(incident)
    return {
        "incident": summary_to_dict(summary),
        "remembered": remembered,
        "notified": notified,
        "message": message,
    }


@router.get(
    "/v1/templates",
    response_model=list[TemplateItem],
    responses=documented(400, 401, 503),
    summary="Stored templates, most records first",
)
async def templates(
    request: Request,
    since: Annotated[
        str | None, Query(max_length=64, description=f"Runs stored since: {WHEN_HELP}.")
    ] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="In template/example/id.")
    ] = None,
    new: Annotated[bool, Query(description="Only templates new in the newest run.")] = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> list[dict[str, Any]]:
    from aiops_copilot.report.view import iso

    store = _store(request)
    moment = _since(since)
    found = await _read(
        lambda: store.templates(limit=limit, since=moment, search=search, new_only=new)
    )
    return [
        {
            "id": t.id,
            "template": t.template,
            "example": t.example,
            "total": t.total,
            "runs": t.runs,
            "new": t.new,
            "first_seen_at": iso(t.first_seen_at),
            "last_seen_at": iso(t.last_seen_at),
            "log_first_seen": iso(t.log_first_seen),
            "log_last_seen": iso(t.log_last_seen),
        }
        for t in found
    ]
