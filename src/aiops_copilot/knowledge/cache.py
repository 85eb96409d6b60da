"""A per-user cache of the shipped knowledge base, already parsed and validated.

Why: the shipped entries are hundreds of YAML documents; parsing and validating them (and
working out each regex's required literals) is a fixed cost that a one-shot ``aiops analyze``
of a small file pays on every run, although the files change only with an upgrade. The
cache is a pickle under ``$XDG_CACHE_HOME/aiops/`` (``~/.cache/aiops/``), named by a digest of
the files' names, sizes and modification times and of the versions that shape the objects
(ours, Python's, pydantic's), so any change of the data or the code builds it anew.

It is only a cache: a missing, unreadable, stale or corrupt file means loading the YAML as
before (and trying to write a fresh cache), never an error. The file lives in the user's own
cache folder, which nothing but the user can write; anyone who can write there can already
change what the user runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from aiops_copilot.xdg import cache_home

if TYPE_CHECKING:
    from aiops_copilot.knowledge.loader import KnowledgeBase

#: Bumped when the cached objects change shape in a way the versions below would not show.
FORMAT = 1


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def digest(files: Iterable[Path]) -> str:
    """What the cached objects depend on: each file's path, size and mtime, and the versions
    of the code that builds them."""
    h = hashlib.sha256()
    parts = [
        f"format={FORMAT}",
        f"python={sys.version}",
        f"aiops={_version_of('aiops-copilot')}",
        f"pydantic={_version_of('pydantic')}",
    ]
    for part in parts:
        h.update(part.encode() + b"\0")
    for path in files:
        stat = path.stat()
        h.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode() + b"\0")
    return h.hexdigest()[:32]


def cached(
    files: list[Path], build: Callable[[], KnowledgeBase], *, folder: Path | None = None
) -> KnowledgeBase:
    """The knowledge base ``build`` makes from ``files``, read from the cache when it is
    current, else built and written to it (best effort)."""
    from aiops_copilot.knowledge.loader import KnowledgeBase

    try:
        path = (folder or cache_home() / "aiops") / f"knowledge-{digest(files)}.pickle"
    except OSError as exc:  # a file vanished while we looked: just build
        logger.debug("knowledge cache: {}", exc)
        return build()
    try:
        with path.open("rb") as handle:
            kb = pickle.load(handle)
        if isinstance(kb, KnowledgeBase):
            return kb
        logger.debug("knowledge cache {} holds something else; rebuilding", path)
    except FileNotFoundError:
        pass
    except Exception as exc:  # corrupt or from another version of a library: rebuild
        logger.debug("knowledge cache {} unreadable ({}); rebuilding", path, exc)
    kb = build()
    for entry in kb:
        _ = entry.match.literals  # worked out once, kept in the pickle
    _write(path, kb)
    return kb


def _write(path: Path, kb: KnowledgeBase) -> None:
    """Write atomically (a temporary file renamed over) and remove older caches; a failure is
    only logged: the next run tries again."""
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=".knowledge-")
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(kb, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        for old in path.parent.glob("knowledge-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except Exception as exc:
        logger.debug("knowledge cache not written to {}: {}", path, exc)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
