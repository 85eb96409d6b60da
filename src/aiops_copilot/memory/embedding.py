"""Sentence embeddings for memory, from a static model that ships inside the package.

Why a static (model2vec) model: memory embeds log templates, incident titles and runbook
passages on every analysis, on machines with no GPU, no network and often no torch. A static
model is a token -> vector table averaged per text: ~16 MB, no torch, thousands of texts per
second, and good enough to rank short operational text. It was distilled once from
all-MiniLM-L6-v2 by ``tools/distill_embedding_model.py``; see ``model/README.md``.

Nothing is ever fetched: the model folder is checked before model2vec sees it (model2vec would
otherwise treat a missing folder as a hub id and try to download it), and the hub's offline
switch is set before model2vec is imported.

The store must key its vectors by :attr:`Embedder.name` (which includes a checksum of the
weights) and :attr:`Embedder.dimension`, so that a different model re-indexes instead of
mixing incomparable vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from model2vec import StaticModel

#: The model shipped with the package (see model/README.md for how it was made).
SHIPPED_MODEL_DIR = Path(__file__).with_name("model")
#: What model2vec needs to load a model from a folder; without them it would go to the hub.
REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")
INFO_FILE = "distill_info.json"
DEFAULT_BATCH_SIZE = 1024
#: Texts are truncated to this many tokens: templates are short, runbook chunks are cut by heading.
MAX_TOKENS = 512

Vectors = npt.NDArray[np.float32]


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be used; the message is one line a user can act on."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"embedding model file {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise EmbeddingModelError(f"embedding model file {path} is not a JSON object")
    return data


class Embedder:
    """Turns texts into L2-normalised float32 vectors with the shipped static model.

    Cheap to create: the model's files are checked and its weights read only on first use
    (``name`` and ``dimension`` read two small JSON files; ``embed`` loads the weights, about
    50 ms). Thread-safe; one instance per process is enough (see :func:`default_embedder`).
    """

    def __init__(
        self, model_dir: Path | str | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model_dir = Path(model_dir) if model_dir is not None else SHIPPED_MODEL_DIR
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._meta: tuple[str, int] | None = None
        self._model: StaticModel | None = None

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Model name and weight checksum, e.g. ``aiops-minilm-l6-v2-m2v256@434a61ccd969``."""
        return self._metadata()[0]

    @property
    def dimension(self) -> int:
        """Length of every vector :meth:`embed` returns."""
        return self._metadata()[1]

    def _metadata(self) -> tuple[str, int]:
        if self._meta is None:
            with self._lock:
                if self._meta is None:
                    self._meta = self._read_metadata()
        return self._meta

    def _read_metadata(self) -> tuple[str, int]:
        folder = self.model_dir
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise EmbeddingModelError(
                f"embedding model missing at {folder} (no {', '.join(missing)}); reinstall "
                "aiops-copilot or rerun tools/distill_embedding_model.py"
            )
        config = _read_json(folder / "config.json")
        info = _read_json(folder / INFO_FILE) if (folder / INFO_FILE).is_file() else {}
        dimension = info.get("dimension", config.get("hidden_dim"))
        if not isinstance(dimension, int) or dimension < 1:
            raise EmbeddingModelError(f"embedding model at {folder} declares no valid dimension")
        actual_sha = _sha256(folder / "model.safetensors")
        expected_sha = info.get("model_sha256")
        if isinstance(expected_sha, str) and expected_sha != actual_sha:
            raise EmbeddingModelError(
                f"embedding model at {folder} is corrupt (model.safetensors checksum differs "
                f"from {INFO_FILE}); reinstall aiops-copilot"
            )
        base = info.get("name")
        base = base if isinstance(base, str) and base else folder.name
        return f"{base}@{actual_sha[:12]}", dimension

    # -- loading --------------------------------------------------------------------------
    def _load(self) -> StaticModel:
        if self._model is not None:
            return self._model
        _, dimension = self._metadata()
        with self._lock:
            if self._model is None:
                self._model = self._load_model(dimension)
        return self._model

    def _load_model(self, dimension: int) -> StaticModel:
        # Belt and braces: the folder is already known to exist, so model2vec never reaches
        # for the hub; these make sure nothing it imports would either.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbeddingModelError(
                "embeddings need model2vec: pip install 'aiops-copilot[memory]'"
            ) from exc
        try:
            model = _open_shipped_layout(StaticModel, self.model_dir.resolve())
            if model is None:
                model = StaticModel.from_pretrained(self.model_dir.resolve(), force_download=False)
        except Exception as exc:  # safetensors/tokenizers raise their own, unrelated types
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EmbeddingModelError(
                f"embedding model at {self.model_dir} is corrupt ({first_line}); "
                "reinstall aiops-copilot"
            ) from exc
        if model.dim != dimension:
            raise EmbeddingModelError(
                f"embedding model at {self.model_dir} has dimension {model.dim}, "
                f"its metadata says {dimension}"
            )
        return model

    # -- embedding ------------------------------------------------------------------------
    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` as rows of an ``(len(texts), dimension)`` float32 array.

        Rows have unit L2 norm, so a dot product is the cosine similarity. A text with no
        token the model knows (an empty string, say) gets an all-zero row: similar to nothing.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        model = self._load()
        out = np.zeros((len(texts), model.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            raw = model.encode(
                batch,
                normalize=False,
                max_length=MAX_TOKENS,
                batch_size=self.batch_size,
                use_multiprocessing=False,
            )
            # The table is float16: normalise in float32 so norms are exact to float32.
            vectors = np.asarray(raw, dtype=np.float32).reshape(len(batch), model.dim)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            np.divide(vectors, norms, out=vectors, where=norms > 0)
            out[start : start + len(batch)] = vectors
        return out

    def embed_one(self, text: str) -> Vectors:
        """Embed a single text as a ``(dimension,)`` vector (a query, typically)."""
        vector: Vectors = self.embed([text])[0]
        return vector


@cache
def default_embedder() -> Embedder:
    """The process-wide embedder for the shipped model (loads lazily on first ``embed``)."""
    return Embedder()


def _open_shipped_layout(static_model: type[StaticModel], folder: Path) -> StaticModel | None:
    """The model built from its three files, as ``StaticModel.from_pretrained`` builds it, but
    without importing model2vec's loader, which pulls in ``huggingface_hub`` for model cards
    and downloads (about 0.16 s of a one-shot analysis's critical path). ``None`` when the
    folder is not the plain model2vec layout; the loader then handles it."""
    weights_file = folder / "model.safetensors"
    tokenizer_file = folder / "tokenizer.json"
    config_file = folder / "config.json"
    if not (weights_file.is_file() and tokenizer_file.is_file() and config_file.is_file()):
        return None
    from safetensors import safe_open
    from tokenizers import Tokenizer

    tensors: dict[str, Any] = {}
    with safe_open(str(weights_file), framework="numpy") as opened:
        present = set(opened.keys())
        for name in ("embeddings", "weights", "mapping"):
            if name in present:
                tensors[name] = opened.get_tensor(name)
    if "embeddings" not in tensors:
        return None
    config = _read_json(config_file)
    return static_model(
        vectors=tensors["embeddings"],
        tokenizer=Tokenizer.from_file(str(tokenizer_file)),
        config=config,
        normalize=bool(config.get("normalize", False)),
        weights=tensors.get("weights"),
        token_mapping=tensors.get("mapping"),
        max_length=config.get("max_length", 512),
    )
