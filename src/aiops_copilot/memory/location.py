"""Where vector memory lives, and opening it so that a problem never stops an analysis.

Precedence: a Qdrant server when ``AIOPS_QDRANT_URL`` (or ``memory.qdrant_url``) is set;
else the folder ``memory.path``; else a ``qdrant/`` folder beside the SQLite database
(``~/.local/share/aiops/qdrant/``, ``$XDG_DATA_HOME`` honoured; beside ``--db FILE`` when the
database is a file elsewhere). The config layer merges file, environment and flags; this module
turns the winning values into a place and opens it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from aiops_copilot.memory.vectors import MemoryNotInstalled, MemoryUnavailable, VectorMemory
from aiops_copilot.xdg import data_home

FOLDER_NAME = "qdrant"


def default_path(database: str | Path | None = None) -> Path:
    """The local-mode folder: beside the SQLite database file, or in the data home."""
    sqlite_file = _sqlite_file(database)
    if sqlite_file is not None:
        return sqlite_file.parent / FOLDER_NAME
    return data_home() / "aiops" / FOLDER_NAME


def _sqlite_file(database: str | Path | None) -> Path | None:
    if database is None:
        return None
    text = str(database).strip()
    if not text:
        return None
    if "://" not in text:
        return Path(text).expanduser().absolute()
    scheme, _, rest = text.partition("://")
    if scheme.split("+")[0] != "sqlite":
        return None  # PostgreSQL: memory stays in the data home
    path = rest[1:] if rest.startswith("/") else rest  # sqlite:///relative, sqlite:////abs
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().absolute()


@dataclass(frozen=True)
class MemoryTarget:
    """A local folder or a server URL (exactly one is set)."""

    path: Path | None = None
    url: str | None = None
    api_key: str | None = None

    def __str__(self) -> str:
        return self.url if self.url else str(self.path)


def resolve_target(
    *,
    qdrant_url: str | None = None,
    path: Path | str | None = None,
    database: str | Path | None = None,
    api_key: str | None = None,
) -> MemoryTarget:
    if qdrant_url:
        return MemoryTarget(url=qdrant_url.strip(), api_key=api_key or None)
    if path:
        return MemoryTarget(path=Path(path).expanduser())
    return MemoryTarget(path=default_path(database))


def open_memory(
    target: MemoryTarget, *, timeout: float = 10.0, required: bool = False
) -> VectorMemory | None:
    """Open memory, or say why not in one line on stderr and return ``None``: an analysis
    always goes on without memory rather than failing or waiting. A missing optional
    dependency is only logged (``-v``) unless memory is ``required`` (``kb add``, say)."""
    try:
        return VectorMemory.open(
            path=target.path, url=target.url, api_key=target.api_key, timeout=timeout
        )
    except MemoryNotInstalled as exc:
        if required:
            warn(str(exc))
        else:
            logger.info("running without memory: {}", exc)
        return None
    except MemoryUnavailable as exc:
        warn(f"{exc}; running without memory")
        return None


def warn(message: str) -> None:
    """A one-line warning for the user (stderr), and in the log for -v runs."""
    logger.debug("memory: {}", message)
    sys.stderr.write(f"aiops: warning: {message}\n")
