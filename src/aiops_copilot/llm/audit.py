"""The record of what left the machine: one JSON line per request, written *before* it is sent.

Why before: if the process dies mid-request, the audit must still say what was on its way.
Each request line holds the redacted messages exactly as sent and the redactions they contain
(placeholder, kind, a short preview -- never the value), so ``aiops llm audit`` can show a
person what a model saw without showing anything the gate hid. Verdict lines say what became
of each answer. The file keeps the last few runs only (``keep_runs``): it is an audit of recent
egress, not an archive, and it holds log-derived text, so it is created private (0600).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiops_copilot.llm.sealed import SealedRequest

__all__ = ["AUDIT_NAME", "AuditLog", "AuditRun", "default_audit_path", "read_runs"]

AUDIT_NAME = "llm-audit.jsonl"
KEEP_RUNS = 20


def default_audit_path() -> Path:
    """``$XDG_DATA_HOME/aiops/llm-audit.jsonl`` (``~/.local/share/aiops/...``)."""
    from aiops_copilot.xdg import data_home

    return data_home() / "aiops" / AUDIT_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AuditLog:
    """Appends the records of one run; thread-safe (requests are sent from a small pool)."""

    def __init__(self, path: Path, run_id: str, *, keep_runs: int = KEEP_RUNS) -> None:
        self.path = path
        self.run_id = run_id
        self.keep_runs = max(1, keep_runs)
        self._lock = threading.Lock()
        self._started = False

    def start(self, **about: Any) -> None:
        """Open the run: drop runs beyond ``keep_runs`` and write the run's header line."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._prune()
            self._write({"type": "run", "run": self.run_id, "at": _now(), **about})

    def request(
        self,
        *,
        provider: str,
        model: str,
        incident: str | None,
        purpose: str,
        sealed: SealedRequest,
        cached: bool,
    ) -> None:
        """What is about to leave (or, ``cached``, what was answered from the disk cache)."""
        self.start()
        record = {
            "type": "request",
            "run": self.run_id,
            "at": _now(),
            "provider": provider,
            "model": model,
            "incident": incident,
            "purpose": purpose,
            "cached": cached,
            "digest": sealed.digest,
            "chars": sealed.chars,
            "messages": sealed.messages(),
            "redactions": [entry._asdict() for entry in sealed.redactions],
        }
        with self._lock:
            self._write(record)

    def verdict(self, *, incident: str | None, outcome: str, detail: str = "") -> None:
        """What became of an answer: accepted, rejected (why), error, skipped."""
        self.start()
        record = {
            "type": "verdict",
            "run": self.run_id,
            "at": _now(),
            "incident": incident,
            "outcome": outcome,
            "detail": detail,
        }
        with self._lock:
            self._write(record)

    # -- internals ----------------------------------------------------------------------------

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)

    def _prune(self) -> None:
        """Keep the lines of the last ``keep_runs - 1`` runs, so this one makes ``keep_runs``."""
        if not self.path.exists():
            return
        records = list(_records(self.path))
        runs = list(dict.fromkeys(str(r.get("run")) for r in records))
        if len(runs) < self.keep_runs:
            return
        keep = set(runs[-(self.keep_runs - 1) :]) if self.keep_runs > 1 else set()
        kept = [r for r in records if str(r.get("run")) in keep]
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for record in kept:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(temporary, self.path)


@dataclass
class AuditRun:
    """One run's records, in order, as ``aiops llm audit`` shows them."""

    run_id: str
    header: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def placeholder_kinds(self) -> dict[str, int]:
        """Distinct placeholders per kind across the run's requests."""
        seen: dict[str, str] = {}
        for request in self.requests:
            for entry in request.get("redactions", []):
                seen[str(entry.get("placeholder"))] = str(entry.get("kind"))
        counts: dict[str, int] = {}
        for kind in seen.values():
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: skip it, keep the rest readable
            if isinstance(record, dict):
                yield record


def read_runs(path: Path, last: int = 1) -> list[AuditRun]:
    """The last ``last`` runs in the audit file, oldest first (``[]`` when there is none)."""
    if not path.exists():
        return []
    runs: dict[str, AuditRun] = {}
    for record in _records(path):
        run_id = str(record.get("run"))
        run = runs.setdefault(run_id, AuditRun(run_id))
        kind = record.get("type")
        if kind == "run":
            run.header = record
        elif kind == "request":
            run.requests.append(record)
        elif kind == "verdict":
            run.verdicts.append(record)
    ordered = list(runs.values())
    return ordered[-last:] if last > 0 else ordered
