"""Memory: past incidents and runbooks, recalled by meaning.

Importing this package is cheap: numpy, the embedding model and Qdrant's client are loaded
only when something is first embedded or memory is opened.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiops_copilot.memory.embedding import (
        SHIPPED_MODEL_DIR,
        Embedder,
        EmbeddingModelError,
        default_embedder,
    )

__all__ = ["SHIPPED_MODEL_DIR", "Embedder", "EmbeddingModelError", "default_embedder"]


def __getattr__(name: str) -> Any:
    """The embedding names, imported on first use (PEP 562): ``import numpy`` is not free, and
    importing a submodule such as ``memory.runtime`` must not pay for it."""
    if name in __all__:
        return getattr(import_module("aiops_copilot.memory.embedding"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
