"""Where the follower stopped in each file, kept on disk so a restart resumes there.

A position is only worth keeping if it can tell the same file from a new one at the same
path, so each entry holds the file's identity as well as the offset: device and inode (a
rotation puts a new inode at the path) and a hash of the first line (a file truncated and
rewritten, or replaced in place, keeps its inode but not its first line). Files read once
(``.gz``, rotated members) are remembered by identity with how many records were taken, so
neither a rename nor a restart reads them again.

The file is plain JSON, written atomically (temporary file, then rename), and merged with
what is on disk when saved, so two watchers of different files may share the default one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loguru import logger

VERSION = 1
#: Read-once identities kept; the oldest are forgotten first.
MAX_DONE = 10_000


@dataclass(slots=True)
class Position:
    """How far a followed file was read: through ``offset`` bytes, ``line_no`` lines."""

    dev: int
    ino: int
    offset: int
    line_no: int
    head: str | None = None


@dataclass(slots=True)
class ReadOnce:
    """A file read from start to end once; ``records`` taken so far, ``done`` when all."""

    path: str
    records: int = 0
    done: bool = False


def identity(dev: int, ino: int) -> str:
    return f"{dev}:{ino}"


class PositionBook:
    """The positions of one follower; ``path`` None keeps them in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.files: dict[str, Position] = {}
        self.once: dict[str, ReadOnce] = {}
        self._forgotten: set[str] = set()
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        data = _read(path)
        for key, value in (data.get("files") or {}).items():
            try:
                self.files[str(key)] = Position(**value)
            except TypeError:
                logger.warning("{}: ignored a damaged position for {}", path, key)
        for key, value in (data.get("once") or {}).items():
            try:
                self.once[str(key)] = ReadOnce(**value)
            except TypeError:
                logger.warning("{}: ignored a damaged entry {}", path, key)

    def forget(self, key: str) -> None:
        """Drop a file's position (it is gone or no longer followed)."""
        self.files.pop(key, None)
        self._forgotten.add(key)

    def save(self) -> None:
        """Write atomically, keeping other followers' entries that are on disk."""
        if self.path is None:
            return
        on_disk = _read(self.path) if self.path.exists() else {}
        files: dict[str, Any] = {
            k: v for k, v in (on_disk.get("files") or {}).items() if k not in self._forgotten
        }
        files.update({key: asdict(value) for key, value in self.files.items()})
        if len(self.once) > MAX_DONE:
            self.once = dict(list(self.once.items())[-MAX_DONE:])
        once: dict[str, Any] = dict(on_disk.get("once") or {})
        once.update({key: asdict(value) for key, value in self.once.items()})
        if len(once) > MAX_DONE:
            once = dict(list(once.items())[-MAX_DONE:])
        payload = {"version": VERSION, "files": files, "once": once}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".positions-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _read(path: Path) -> dict[str, Any]:
    """The saved state, or empty when missing or unreadable (said once, not fatal: the worst
    outcome is reading from the end again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("{}: positions not read ({}); starting afresh", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        logger.warning("{}: unknown positions format; starting afresh", path)
        return {}
    return data
