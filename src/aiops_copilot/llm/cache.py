"""Answers kept on disk, keyed by (provider, model, hash of exactly what was sent).

Why: the same logs analysed twice (a re-run in CI, a second look at yesterday's file) would
otherwise pay for the same model answer twice, and a small local model may take tens of
seconds per incident. The key is the *redacted* request, so the cache never holds a secret;
an entry stores the model's answer as it came back, placeholders and all, and the run that
reads it restores the placeholders with its own redactor. Only answers that passed validation
are stored. The folder is bounded (oldest files go first).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from aiops_copilot.llm.sealed import SealedRequest

__all__ = ["CACHE_NAME", "AnswerCache", "default_cache_dir"]

CACHE_NAME = "llm-cache"
MAX_ENTRIES = 2000


def default_cache_dir() -> Path:
    """``$XDG_DATA_HOME/aiops/llm-cache`` (``~/.local/share/aiops/llm-cache``)."""
    from aiops_copilot.xdg import data_home

    return data_home() / "aiops" / CACHE_NAME


class AnswerCache:
    """One JSON file per answer under ``folder``; every failure is a miss, never an error."""

    def __init__(self, folder: Path, *, max_entries: int = MAX_ENTRIES) -> None:
        self.folder = folder
        self.max_entries = max(1, max_entries)
        self._pruned = False

    @staticmethod
    def key(provider: str, model: str, sealed: SealedRequest) -> str:
        """SHA-256 over the provider, the model and the exact redacted request."""
        material = json.dumps([provider, model, sealed.digest])
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        answer = data.get("answer") if isinstance(data, dict) else None
        return answer if isinstance(answer, dict) else None

    def put(self, key: str, answer: dict[str, Any], *, provider: str, model: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            text = json.dumps(
                {"provider": provider, "model": model, "answer": answer}, ensure_ascii=False
            )
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except OSError:
            return  # a cache that cannot be written is only a slower next run
        if not self._pruned:
            self._pruned = True
            self.prune()

    def prune(self) -> int:
        """Remove the oldest entries beyond ``max_entries``; how many went."""
        try:
            files = [p for p in self.folder.glob("*/*.json") if p.is_file()]
        except OSError:
            return 0
        if len(files) <= self.max_entries:
            return 0
        files.sort(key=_mtime)
        removed = 0
        for path in files[: len(files) - self.max_entries]:
            try:
                path.unlink()
                removed += 1
            except OSError:
                continue
        return removed

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
