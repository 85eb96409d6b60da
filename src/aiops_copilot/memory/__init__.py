"""Memory: past incidents and runbooks, recalled by meaning.

Importing this package is cheap and needs no optional dependency: the embedding model (and
model2vec, from the ``memory`` extra) is loaded only when something is first embedded.
"""

from aiops_copilot.memory.embedding import (
    SHIPPED_MODEL_DIR,
    Embedder,
    EmbeddingModelError,
    default_embedder,
)

__all__ = ["SHIPPED_MODEL_DIR", "Embedder", "EmbeddingModelError", "default_embedder"]
