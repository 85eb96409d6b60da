"""Memory as the fixers see it: runbook passages and similar past incidents above a threshold.

:class:`MemoryRecall` implements :class:`aiops_copilot.agents.base.MemoryLookup` over a
:class:`VectorMemory`. It never raises: the first failure (a server gone away mid-run, say) is
reported once and memory is switched off for the rest of the run, so an analysis with broken
memory reads exactly like one without.

The thresholds are on the hybrid score and were set on the development split of
``tests/data/retrieval`` (see ``bench/retrieval.py``): high enough that an unrelated passage is
rarely cited, low enough that the right one usually is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from loguru import logger

from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.memory import incidents as incident_memory
from aiops_copilot.memory.location import warn
from aiops_copilot.memory.runbooks import ensure_kb_indexed
from aiops_copilot.memory.vectors import Kind, VectorMemory
from aiops_copilot.models import Diagnosis, Incident, RunbookPassage, SimilarIncident

#: Passages are cited as ``text`` cut to this many characters.
PASSAGE_CHARS = 600


@dataclass(frozen=True)
class Thresholds:
    runbook: float = 0.6
    incident: float = 0.65


class MemoryRecall:
    """What fixers consult; also remembers a run's incidents when it is over."""

    def __init__(
        self,
        memory: VectorMemory,
        *,
        thresholds: Thresholds | None = None,
        include_kb: bool = True,
    ) -> None:
        self.memory = memory
        self.thresholds = thresholds or Thresholds()
        self.include_kb = include_kb
        self._broken = False
        self._kb_ready = False
        self._cache: dict[tuple[str, str], list[object]] = {}

    @property
    def available(self) -> bool:
        return not self._broken

    def _failed(self, what: str, exc: Exception) -> None:
        if not self._broken:
            warn(f"vector memory failed while {what} ({exc}); going on without memory")
        logger.opt(exception=exc).debug("memory failure")
        self._broken = True

    def runbook_passages(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[RunbookPassage]:
        key = ("runbooks", incident.id)
        if key in self._cache:
            return list(self._cache[key])  # type: ignore[arg-type]
        if self._broken or k < 1:
            return []
        query = incident_memory.text_of(incident, diagnosis)
        cited = list(diagnosis.entry_ids) if diagnosis is not None else list(incident.entry_ids)
        try:
            if self.include_kb and not self._kb_ready:
                ensure_kb_indexed(self.memory)
                self._kb_ready = True
            hits = self.memory.search(
                Kind.RUNBOOKS,
                query,
                k,
                where=None if self.include_kb else {"kind": "runbook"},
                exclude={"entry_id": cited} if cited else None,
            )
        except Exception as exc:
            self._failed("searching runbooks", exc)
            return []
        software = _software_of(incident)
        passages = [
            RunbookPassage(
                title=str(hit.payload.get("title", "")),
                text=_cut(str(hit.payload.get("body", "")), PASSAGE_CHARS),
                source=str(hit.payload.get("source", "")),
                score=hit.score,
                line=hit.payload.get("line"),
                entry_id=hit.payload.get("entry_id"),
            )
            for hit in hits
            if hit.score >= self.thresholds.runbook
            and not _other_software(hit.payload.get("entry_id"), software)
        ]
        self._cache[key] = list(passages)
        return passages

    def similar_incidents(
        self, incident: Incident, k: int, diagnosis: Diagnosis | None = None
    ) -> list[SimilarIncident]:
        key = ("incidents", incident.id)
        if key in self._cache:
            return list(self._cache[key])  # type: ignore[arg-type]
        if self._broken or k < 1:
            return []
        query = incident_memory.text_of(incident, diagnosis)
        try:
            hits = incident_memory.similar(self.memory, query, k, exclude=[incident.fingerprint])
        except Exception as exc:
            self._failed("searching past incidents", exc)
            return []
        found = [
            incident_memory.to_similar(hit) for hit in hits if hit.score >= self.thresholds.incident
        ]
        self._cache[key] = list(found)
        return found

    def remember(
        self, incidents: Iterable[Incident], resolution_notes: Mapping[str, str] | None = None
    ) -> int:
        """Store this run's incidents (batched); 0 when memory is off or failed."""
        if self._broken:
            return 0
        try:
            return incident_memory.remember_incidents(self.memory, incidents, resolution_notes)
        except Exception as exc:
            self._failed("remembering incidents", exc)
            return 0


def _software_of(incident: Incident) -> set[str]:
    """The software the incident's own known signatures name (empty when none)."""
    kb = load_knowledge()
    return {e.software for e in (kb.get(i) for i in incident.entry_ids) if e is not None}


def _other_software(entry_id: object, software: set[str]) -> bool:
    """A knowledge-base passage about other software than the incident's (MySQL advice for a
    PostgreSQL incident) is left out; the team's own runbooks always stay."""
    if not software or not isinstance(entry_id, str):
        return False
    entry = load_knowledge().get(entry_id)
    return entry is not None and entry.software not in software


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
