"""Helpers for the memory tests: a small deterministic embedder standing in for another model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from aiops_copilot.memory import lexical
from aiops_copilot.memory.embedding import Embedder, Vectors


class HashEmbedder(Embedder):
    """Bag-of-tokens vectors by hashing: a different "model" (name, dimension) for tests."""

    def __init__(self, name: str = "hash-test@000000000001", dimension: int = 32) -> None:
        super().__init__()
        self._fixed = (name, dimension)

    def _read_metadata(self) -> tuple[str, int]:
        return self._fixed

    def embed(self, texts: Sequence[str]) -> Vectors:
        dimension = self._fixed[1]
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in lexical.tokens(text):
                digest = hashlib.sha256(token.encode()).digest()
                out[row, digest[0] % dimension] += 1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out
