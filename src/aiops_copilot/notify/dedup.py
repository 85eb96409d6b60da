"""What was sent where, and when: so the same incident and change is not sent twice in a TTL.

The state is a small JSON file in the data folder, written atomically after every change, so a
restarted ``aiops watch`` (or a cron job running ``aiops analyze --notify`` every ten minutes)
does not page anyone again for what it already said. Two processes may share the file: each
save merges what is on disk (the later send time wins; a key this process forgot stays
forgotten unless the other process sent it again later).

A key is (target, fingerprint, change, epoch). ``epoch`` is when the incident was last resolved
for a ``reopened`` change, so a second reopening after a second resolve is news again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATE_NAME = "notify-state.json"
FORMAT_VERSION = 1
#: Entries kept at most (oldest dropped): enough for months of incidents, a file of ~2 MB.
MAX_ENTRIES = 10_000

Key = tuple[str, str, str, str]


class DedupState:
    """Thread-safe; ``path=None`` keeps the state in memory only."""

    def __init__(
        self,
        path: Path | None,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        warn: Callable[[str], None] | None = None,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self._clock = clock
        self._warn = warn
        self._max = max_entries
        self._lock = threading.Lock()
        self._sent: dict[Key, float] = {}
        self._forgotten: dict[Key, float] = {}
        self._write_failed = False
        if path is not None:
            self._sent = self._read(path, complain=True)

    # -- queries and changes -------------------------------------------------------------------
    def claim(self, key: Key) -> bool:
        """True (and remembered as sent now) unless ``key`` was sent within the TTL."""
        with self._lock:
            now = self._clock()
            sent = self._sent.get(key)
            if sent is not None and now - sent < self.ttl:
                return False
            self._sent[key] = now
            self._forgotten.pop(key, None)
            self._save()
            return True

    def release(self, key: Key) -> None:
        """Undo a claim whose delivery failed, so a later sighting may try again."""
        with self._lock:
            if self._sent.pop(key, None) is not None:
                self._forgotten[key] = self._clock()
                self._save()

    def forget(self, fingerprint: str) -> list[str]:
        """Drop every key of ``fingerprint`` (it was resolved); the targets that had been told."""
        with self._lock:
            keys = [key for key in self._sent if key[1] == fingerprint]
            now = self._clock()
            for key in keys:
                del self._sent[key]
                self._forgotten[key] = now
            if keys:
                self._save()
            return sorted({key[0] for key in keys})

    def __len__(self) -> int:
        with self._lock:
            return len(self._sent)

    # -- persistence ---------------------------------------------------------------------------
    def _read(self, path: Path, *, complain: bool) -> dict[Key, float]:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            if complain:
                self._tell(f"notification state {path} unreadable ({_reason(exc)}); starting empty")
            return {}
        entries: dict[Key, float] = {}
        items = raw.get("sent") if isinstance(raw, dict) else None
        for item in items if isinstance(items, list) else []:
            key, when = _entry(item)
            if key is not None:
                entries[key] = max(when, entries.get(key, 0.0))
        return entries

    def _save(self) -> None:
        """Merge with the file, drop what expired or overflows, write atomically."""
        if self.path is None:
            return
        now = self._clock()
        merged = self._read(self.path, complain=False)
        for key, when in list(merged.items()):
            if self._forgotten.get(key, -1.0) >= when:
                del merged[key]
        for key, when in self._sent.items():
            merged[key] = max(when, merged.get(key, 0.0))
        live = sorted(
            ((key, when) for key, when in merged.items() if now - when < self.ttl),
            key=lambda item: item[1],
        )[-self._max :]
        self._sent = dict(live)
        body = {
            "version": FORMAT_VERSION,
            "sent": [
                {"target": k[0], "fingerprint": k[1], "change": k[2], "epoch": k[3], "at": w}
                for k, w in live
            ],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, self.path)
            self._write_failed = False
        except OSError as exc:
            if not self._write_failed:  # once, not on every incident
                self._tell(f"cannot save notification state {self.path}: {_reason(exc)}")
            self._write_failed = True

    def _tell(self, message: str) -> None:
        if self._warn is not None:
            self._warn(message)


def _entry(item: Any) -> tuple[Key | None, float]:
    if not isinstance(item, dict):
        return None, 0.0
    parts = [item.get(name) for name in ("target", "fingerprint", "change", "epoch")]
    when = item.get("at")
    if not all(isinstance(p, str) for p in parts) or not isinstance(when, (int, float)):
        return None, 0.0
    return (str(parts[0]), str(parts[1]), str(parts[2]), str(parts[3])), float(when)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split())[:120] or type(exc).__name__
