"""Past incidents in memory: what is stored for each fingerprint, and how it is found again.

What is embedded is the incident's *description*, never its raw lines: its title, the fixer's
diagnosis title and the first sentences of its root cause (when a known problem or signature
was recognised; a "no known pattern" root cause would make every unknown incident look alike),
and its first templates with the miner's masks, tracebacks' boilerplate and carets removed.
That keeps one short text per incident, whatever its line count, and a new incident's query is
built by the very same function, so like meets like.

One point per fingerprint (the point id derives from it): seeing the same fingerprint again
updates the point — its text, last sighting and count — and keeps the resolution note someone
recorded. The functions take plain data (:class:`IncidentMemo`) so the SQL store can feed
memory too, e.g. when a note is recorded with ``aiops incidents resolve``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiops_copilot.memory.vectors import Document, Hit, Kind, VectorMemory, point_id
from aiops_copilot.models import Diagnosis, Incident, SimilarIncident, TemplateRef

#: Templates of an incident that go into its text, and characters kept of each.
MAX_TEMPLATES = 3
TEMPLATE_HEAD = 160
TEMPLATE_TAIL = 200
ROOT_CAUSE_SENTENCES = 2

_MASK = re.compile(r"<[A-Z_*]+>")
_NOISE = re.compile(r"[\^~]{3,}|\bFile \"\s*\",? line ,? in\b|\s{2,}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class IncidentMemo:
    """An incident as memory keeps it (plain data: the store can build these too)."""

    fingerprint: str
    title: str
    text: str
    domain: str | None = None
    severity: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    seen_at: datetime | None = None


def clean_template(template: str) -> str:
    """A template without masks, carets and traceback scaffolding, head and tail kept (a
    Python traceback's exception is at its end, a Java one's at its start)."""
    text = _NOISE.sub(" ", _MASK.sub("", template))
    text = " ".join(text.split())
    if len(text) > TEMPLATE_HEAD + TEMPLATE_TAIL:
        text = f"{text[:TEMPLATE_HEAD]} … {text[-TEMPLATE_TAIL:]}"
    return text


def recognised(diagnosis: Diagnosis | None) -> bool:
    """True when the diagnosis rests on a known problem or signature, not a generic guess."""
    return diagnosis is not None and bool(diagnosis.entry_ids or diagnosis.facts.get("problem"))


def incident_text(
    title: str,
    templates: Sequence[str],
    diagnosis_title: str | None = None,
    root_cause: str | None = None,
) -> str:
    """The text embedded for an incident and used as its query (see the module doc)."""
    parts = [title.strip()]
    if diagnosis_title and diagnosis_title.strip() != title.strip():
        parts.append(diagnosis_title.strip())
    if root_cause:
        parts.append(" ".join(_SENTENCE.split(root_cause.strip())[:ROOT_CAUSE_SENTENCES]))
    parts += [clean_template(t) for t in templates[:MAX_TEMPLATES]]
    return "\n".join(p for p in parts if p)


def text_of(incident: Incident, diagnosis: Diagnosis | None = None) -> str:
    diagnosis = diagnosis if diagnosis is not None else incident.diagnosis
    known = recognised(diagnosis)
    return incident_text(
        incident.title,
        [t.template for t in _templates(incident.templates)],
        diagnosis.title if diagnosis is not None and known else None,
        diagnosis.root_cause if diagnosis is not None and known else None,
    )


def _templates(templates: Sequence[TemplateRef]) -> list[TemplateRef]:
    return sorted(templates, key=lambda t: -t.count)


def memo_of(
    incident: Incident, *, resolution: str | None = None, seen_at: datetime | None = None
) -> IncidentMemo:
    """The memo of an analysed incident (its store history's resolution note, if any)."""
    from aiops_copilot.report.view import domain_of

    diagnosis = incident.diagnosis
    history = incident.history
    note = resolution or (history.last_resolution_note if history is not None else None)
    return IncidentMemo(
        fingerprint=incident.fingerprint,
        title=diagnosis.title
        if diagnosis is not None and recognised(diagnosis)
        else incident.title,
        text=text_of(incident),
        domain=domain_of(incident),
        severity=incident.severity.value,
        root_cause=diagnosis.root_cause if diagnosis is not None else None,
        resolution=note,
        seen_at=seen_at,
    )


def remember(memory: VectorMemory, memos: Iterable[IncidentMemo]) -> int:
    """Store memos in batches: one point per fingerprint, updated in place when seen again
    (count and first sighting carried over, an earlier resolution note kept unless a new
    one is given). Returns how many were written."""
    latest: dict[str, IncidentMemo] = {}
    for memo in memos:
        latest[memo.fingerprint] = memo  # the same fingerprint twice in one run: one point
    if not latest:
        return 0
    earlier = _existing(memory, list(latest))
    now = datetime.now(UTC)
    documents = []
    for fingerprint, memo in latest.items():
        before = earlier.get(fingerprint, {})
        seen = (memo.seen_at or now).astimezone(UTC).isoformat()
        documents.append(
            Document(
                key=fingerprint,
                text=memo.text,
                payload={
                    "fingerprint": fingerprint,
                    "title": memo.title,
                    "domain": memo.domain,
                    "severity": memo.severity,
                    "root_cause": memo.root_cause,
                    "resolution": memo.resolution or before.get("resolution"),
                    "resolved_at": before.get("resolved_at"),
                    "first_seen": before.get("first_seen") or seen,
                    "last_seen": seen,
                    "times_seen": int(before.get("times_seen") or 0) + 1,
                },
            )
        )
    return memory.upsert(Kind.INCIDENTS, documents)


def _existing(memory: VectorMemory, fingerprints: list[str]) -> dict[str, dict[str, Any]]:
    name = memory.ensure(Kind.INCIDENTS)
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(fingerprints), 256):
        ids = [point_id(Kind.INCIDENTS, f) for f in fingerprints[start : start + 256]]
        for record in memory.client.retrieve(name, ids=ids, with_payload=True):
            payload = dict(record.payload or {})
            out[str(payload.get("fingerprint"))] = payload
    return out


def remember_incidents(
    memory: VectorMemory,
    incidents: Iterable[Incident],
    resolution_notes: Mapping[str, str] | None = None,
    *,
    seen_at: datetime | None = None,
) -> int:
    """Remember an analysis's incidents (``resolution_notes``: by fingerprint)."""
    notes = resolution_notes or {}
    return remember(
        memory,
        (memo_of(i, resolution=notes.get(i.fingerprint), seen_at=seen_at) for i in incidents),
    )


def record_resolution(
    memory: VectorMemory, fingerprint: str, note: str, *, resolved_at: datetime | None = None
) -> bool:
    """Attach how an incident was resolved; False when memory never saw that fingerprint."""
    when = (resolved_at or datetime.now(UTC)).astimezone(UTC).isoformat()
    return memory.set_payload(
        Kind.INCIDENTS, fingerprint, {"resolution": note, "resolved_at": when}
    )


def forget(memory: VectorMemory, fingerprints: Iterable[str]) -> None:
    """Drop fingerprints from memory (retention: ``aiops db prune`` should call this)."""
    memory.delete(Kind.INCIDENTS, fingerprints)


def similar(memory: VectorMemory, query: str, k: int, *, exclude: Sequence[str] = ()) -> list[Hit]:
    """Past incidents closest to ``query``, except the fingerprints in ``exclude``."""
    return memory.search(
        Kind.INCIDENTS, query, k, exclude={"fingerprint": list(exclude)} if exclude else None
    )


def to_similar(hit: Hit) -> SimilarIncident:
    payload = hit.payload
    return SimilarIncident(
        fingerprint=str(payload.get("fingerprint", "")),
        title=str(payload.get("title", "")),
        score=hit.score,
        domain=payload.get("domain"),
        root_cause=payload.get("root_cause"),
        resolution=payload.get("resolution"),
        last_seen=_datetime(payload.get("last_seen")),
        times_seen=int(payload.get("times_seen") or 1),
    )


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
