"""A per-user cache of the shipped knowledge base, already parsed and validated (and of the
other data worked out from shipped files: the hypothesis books, regexes' needles).

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

:func:`cached` is the knowledge base's; :func:`cached_object` builds any picklable value the
same way, and :func:`cache_path`, :func:`read` and :func:`write` serve a value that grows
during a run (:mod:`aiops_copilot.knowledge.needles`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loguru import logger

from aiops_copilot.xdg import cache_home

if TYPE_CHECKING:
    from aiops_copilot.knowledge.loader import KnowledgeBase

#: Bumped when the cached objects change shape in a way the versions below would not show.
FORMAT = 1

T = TypeVar("T")


def digest(files: Iterable[Path]) -> str:
    """What the cached objects depend on: each file's path, size and mtime, and the versions
    of the code that builds them."""
    import pydantic

    from aiops_copilot import __version__

    h = hashlib.sha256()
    # The versions as the modules say them: asking the package metadata costs more than
    # reading the whole cache (a one-shot run pays it before anything else).
    parts = [
        f"format={FORMAT}",
        f"python={sys.version}",
        f"aiops={__version__}",
        f"pydantic={pydantic.VERSION}",
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

    def built() -> KnowledgeBase:
        kb = build()
        for entry in kb:
            _ = entry.match.literals  # worked out once, kept in the pickle
        return kb

    return cached_object("knowledge", files, built, KnowledgeBase, folder=folder)


def cached_object(
    name: str,
    files: list[Path],
    build: Callable[[], T],
    kind: type[T],
    *,
    folder: Path | None = None,
) -> T:
    """The ``kind`` value ``build`` makes from ``files``, read from the cache file ``name-*``
    when it is current, else built and written to it (best effort)."""
    path = cache_path(name, files, folder=folder)
    if path is None:
        return build()
    value = read(path, kind)
    if value is None:
        value = build()
        write(path, value)
    return value


def cache_path(name: str, files: list[Path], *, folder: Path | None = None) -> Path | None:
    """Where the value ``name`` made from ``files`` is cached (None: a file vanished)."""
    try:
        return (folder or cache_home() / "aiops") / f"{name}-{digest(files)}.pickle"
    except OSError as exc:  # a file vanished while we looked: just build
        logger.debug("{} cache: {}", name, exc)
        return None


def read(path: Path, kind: type[T]) -> T | None:
    """The cached ``kind`` value at ``path``; None when missing, unreadable or another kind."""
    try:
        with path.open("rb") as handle:
            value = pickle.load(handle)
        if isinstance(value, kind):
            return value
        logger.debug("cache {} holds something else; rebuilding", path)
    except FileNotFoundError:
        pass
    except Exception as exc:  # corrupt or from another version of a library: rebuild
        logger.debug("cache {} unreadable ({}); rebuilding", path, exc)
    return None


def write(path: Path, value: Any) -> None:
    """Write atomically (a temporary file renamed over) and remove older caches of the same
    name; a failure is only logged: the next run tries again."""
    prefix = path.name.rsplit("-", 1)[0]
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{prefix}-")
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        for old in path.parent.glob(f"{prefix}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except Exception as exc:
        logger.debug("cache not written to {}: {}", path, exc)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
