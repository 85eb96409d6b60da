"""Where the tool keeps its files, by the XDG base-directory spec.

One place for the rule (a variable counts only when it holds an absolute path, as the spec
asks) so the store, memory, the caches and the watcher's positions all agree on it.
"""

from __future__ import annotations

import os
from pathlib import Path


def _home(variable: str, *fallback: str) -> Path:
    value = os.environ.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home().joinpath(*fallback)


def data_home() -> Path:
    """``$XDG_DATA_HOME`` when set and absolute, else ``~/.local/share``."""
    return _home("XDG_DATA_HOME", ".local", "share")


def cache_home() -> Path:
    """``$XDG_CACHE_HOME`` when set and absolute, else ``~/.cache``."""
    return _home("XDG_CACHE_HOME", ".cache")
