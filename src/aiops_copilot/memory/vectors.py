"""Vector memory in Qdrant: past incidents and runbook passages, found by meaning and by words.

One class, :class:`VectorMemory`, over one ``QdrantClient`` — local mode (a folder, no server)
by default, a Qdrant server by URL — so the same code serves both.

Design, and the facts about Qdrant's local mode behind it:

* **Two collections**, ``incidents`` and ``runbooks``. Each point carries a dense vector
  (``dense``: the shipped static embedding model, cosine) and, in its payload, the text it was
  made from (for re-indexing and for the lexical half of the score).
* **The model is in the name.** A collection is called
  ``aiops-<kind>-<model name and checksum>-d<dimension>-x<lexical version>`` and records the
  same in its metadata. Opening with another model (or tokeniser) finds no collection of that
  name, creates it and re-indexes: every point of the older collection is re-embedded from the
  text kept in its payload, then the old collection is dropped. Vectors of two models are never
  mixed, and a crash half-way leaves the old collection intact for the next attempt.
* **Deterministic ids**: a point's id is ``uuid5(kind + key)``, so adding the same runbook
  passage or remembering the same incident fingerprint again updates it in place.
* **Batched writes, one writer.** Local mode stores points in SQLite and commits once per point;
  with its default journal that is an fsync per point (hundreds to a thousand points a second).
  Writes here go in batches, and in local mode the collection's SQLite file is switched to WAL
  with ``synchronous=NORMAL``: commits survive a killed process and cost no fsync each (a power
  cut may lose the last few, acceptable for an index that can be rebuilt from the store and the
  runbook files). Local mode also allows **one process per folder**: a second process gets
  :class:`MemoryUnavailable` at once (never a wait), and the CLI carries on without memory.
* **Brute force.** Local mode scans every vector on every query and loads the whole collection
  into memory when opened: milliseconds per query at 20,000 points, but above that Qdrant warns,
  and a server (``AIOPS_QDRANT_URL``) is the better home: it indexes (HNSW), serves several
  processes and keeps nothing in this one's memory.
* **Hybrid score**: ``alpha·cosine + (1-alpha)·b/(b + saturation)`` over the best dense
  candidates, where ``b`` is BM25 per query token computed over those candidates' texts
  (:func:`.lexical.bm25_scores`). Not Qdrant's sparse vectors: local mode scores those with a
  Python loop over every point (~0.3 s at 20,000), which would break the latency budget. The
  saturation keeps the lexical half in 0..1, so a threshold on the score means the same for
  every query.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from loguru import logger

from aiops_copilot.memory import lexical
from aiops_copilot.memory.embedding import Embedder, EmbeddingModelError, default_embedder

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client.http import models as qm

#: Points per upsert request: large enough to amortise a request, small enough for a server's
#: request size limit (256 x 256 floats is about 0.5 MB of JSON).
BATCH_SIZE = 256
#: Local mode scans every vector; above this many points Qdrant warns and a server is faster.
LOCAL_MODE_LIMIT = 20_000
DENSE = "dense"
_NAMESPACE = uuid.UUID("5b1d8f0e-6c1a-4f4e-9a55-4a1f0c0de001")
_IN_USE = "already accessed by another instance"


class MemoryUnavailable(Exception):
    """Memory cannot be used right now; the message is one line a user can act on."""


class MemoryNotInstalled(MemoryUnavailable):
    """qdrant-client or model2vec is not installed (memory is an optional dependency)."""


class Kind(StrEnum):
    INCIDENTS = "incidents"
    RUNBOOKS = "runbooks"


@dataclass(frozen=True)
class Scoring:
    """The hybrid mix (tuned on the development split of tests/data/retrieval).

    ``lexical`` below is BM25 divided by the number of distinct query tokens, so that a long
    query (an incident's title, root cause and templates) and a short one (``kb search
    "disk full"``) land on the same scale; ``saturation`` is the per-token BM25 that counts as
    half a lexical match. ``prior`` multiplies the score by the payload's ``kind``: the shipped
    knowledge base's generic entries rank just below the team's own runbook for the same
    match, since a team runbook knows the hosts, owners and procedures."""

    alpha: float = 0.6  # weight of the cosine similarity
    saturation: float = 0.5
    candidates: int = 64  # dense candidates re-ranked by the mix
    prior: Mapping[str, float] = field(default_factory=lambda: {"kb": 0.9})

    def mix(self, dense: float, lexical: float, kind: Any = None) -> float:
        lexical_part = lexical / (lexical + self.saturation) if lexical > 0 else 0.0
        score = self.alpha * max(0.0, dense) + (1 - self.alpha) * lexical_part
        return score * self.prior.get(kind, 1.0) if kind is not None else score


@dataclass(frozen=True)
class Document:
    """What to store: ``key`` is its identity in the collection, ``text`` what is embedded and
    tokenised (kept in the payload as ``text`` so a model change can re-embed it)."""

    key: str
    text: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class Hit(NamedTuple):
    """One search result: the stored payload and the hybrid score, with its two halves
    (``dense``: cosine; ``lexical``: BM25 per distinct query token)."""

    payload: dict[str, Any]
    score: float
    dense: float
    lexical: float


def point_id(kind: Kind | str, key: str) -> str:
    """The point id of ``key`` in a collection: stable across runs, processes and machines."""
    return str(uuid.uuid5(_NAMESPACE, f"{Kind(kind).value}:{key}"))


def collection_prefix(kind: Kind | str) -> str:
    return f"aiops-{Kind(kind).value}-"


def collection_name(kind: Kind | str, model: str, dimension: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model).strip("_") or "model"
    return f"{collection_prefix(kind)}{slug}-d{dimension}-x{lexical.LEXICAL_VERSION}"


class VectorMemory:
    """Incidents and runbooks in Qdrant; open with :meth:`open`, close when done (or ``with``)."""

    def __init__(
        self,
        client: QdrantClient,
        *,
        embedder: Embedder,
        where: str,
        local: bool,
        scoring: Scoring | None = None,
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.where = where
        self.local = local
        self.scoring = scoring or Scoring()
        self._ready: set[Kind] = set()
        self._warned_size = False

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        path: Path | str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = 10.0,
        embedder: Embedder | None = None,
        scoring: Scoring | None = None,
    ) -> VectorMemory:
        """Local mode in ``path``, or the server at ``url``; raises :class:`MemoryUnavailable`
        (one line, never a wait) when the folder is in use, the server does not answer, or a
        dependency or the model is missing."""
        if (path is None) == (url is None):
            raise ValueError("give either a local path or a server url")
        for module, extra in (("qdrant_client", "qdrant-client"), ("model2vec", "model2vec")):
            if importlib.util.find_spec(module) is None:
                raise MemoryNotInstalled(
                    f"vector memory needs {extra}: pip install 'aiops-copilot[memory]'"
                )
        embedder = embedder or default_embedder()
        try:
            embedder.name  # noqa: B018  (reads and checks the model's metadata)
        except EmbeddingModelError as exc:
            raise MemoryUnavailable(str(exc)) from None
        from qdrant_client import QdrantClient

        if path is not None:
            folder = Path(path).expanduser()
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with _quiet_size_warning():
                    client = QdrantClient(path=str(folder))
            except RuntimeError as exc:
                if _IN_USE in str(exc):
                    raise MemoryUnavailable(
                        f"vector memory {folder} is in use by another aiops process "
                        "(local mode allows one; set AIOPS_QDRANT_URL to share a server)"
                    ) from None
                raise MemoryUnavailable(f"vector memory {folder}: {_first_line(exc)}") from None
            except Exception as exc:  # a corrupt folder raises whatever its parser raises
                raise MemoryUnavailable(f"vector memory {folder}: {_first_line(exc)}") from None
            memory = cls(client, embedder=embedder, where=str(folder), local=True, scoring=scoring)
            memory._tune_local_storage()
            return memory
        assert url is not None
        client = QdrantClient(
            url=url, api_key=api_key, timeout=max(1, round(timeout)), check_compatibility=False
        )
        try:
            client.get_collections()
        except Exception as exc:  # connection refused, DNS, TLS, 401 ...
            client.close()
            raise MemoryUnavailable(
                f"Qdrant server {url} is not reachable: {_first_line(exc)}"
            ) from None
        return cls(client, embedder=embedder, where=url, local=False, scoring=scoring)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception as exc:  # closing must never be what fails a run
            logger.debug("closing vector memory: {}", exc)

    def __enter__(self) -> VectorMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections --------------------------------------------------------------------------

    def name(self, kind: Kind | str) -> str:
        return collection_name(kind, self.embedder.name, self.embedder.dimension)

    def _collections(self) -> set[str]:
        return {c.name for c in self.client.get_collections().collections}

    def ensure(self, kind: Kind | str) -> str:
        """The collection for ``kind`` and the current model, created (and re-indexed from an
        older model's collection) on first use."""
        kind = Kind(kind)
        name = self.name(kind)
        if kind in self._ready:
            return name
        existing = self._collections()
        if name not in existing:
            self._create(kind, name)
            for old in sorted(n for n in existing if n.startswith(collection_prefix(kind))):
                self._reindex(kind, old, name)
        self._ready.add(kind)
        self._tune_local_storage()
        return name

    def _create(self, kind: Kind, name: str) -> None:
        from qdrant_client.http import models as qm

        try:
            self.client.create_collection(
                name,
                vectors_config={
                    DENSE: qm.VectorParams(
                        size=self.embedder.dimension, distance=qm.Distance.COSINE
                    )
                },
                metadata={
                    "kind": kind.value,
                    "model": self.embedder.name,
                    "dimension": self.embedder.dimension,
                    "lexical_version": lexical.LEXICAL_VERSION,
                },
            )
        except Exception as exc:
            # Another process may have created it a moment ago (server mode): that is fine.
            if name not in self._collections():
                raise MemoryUnavailable(
                    f"cannot create collection {name}: {_first_line(exc)}"
                ) from None

    def _reindex(self, kind: Kind, old: str, new: str) -> None:
        """Re-embed every point of ``old`` (another model's collection) into ``new``, then drop
        ``old``. Points whose payload lacks its text cannot be re-embedded and are dropped."""
        moved = 0
        batch: list[Document] = []
        for record in self._scroll(old):
            payload = dict(record.payload or {})
            text, key = payload.pop("text", None), payload.pop("key", None)
            if not isinstance(text, str) or not isinstance(key, str):
                continue
            batch.append(Document(key, text, payload))
            if len(batch) >= BATCH_SIZE:
                moved += self._write(kind, new, batch)
                batch = []
        moved += self._write(kind, new, batch)
        self.client.delete_collection(old)
        logger.info("vector memory: re-indexed {} {} from {} into {}", moved, kind, old, new)

    def _scroll(self, name: str) -> Iterator[Any]:
        offset: Any = None
        while True:
            points, offset = self.client.scroll(
                name, limit=BATCH_SIZE, offset=offset, with_payload=True, with_vectors=False
            )
            yield from points
            if offset is None:
                return

    def _tune_local_storage(self) -> None:
        """WAL + synchronous=NORMAL on local mode's per-collection SQLite files (see module doc).

        Reaches into qdrant-client's local storage; when its shape differs (another version),
        nothing is changed and writes are merely slower."""
        if not self.local:
            return
        inner = getattr(self.client, "_client", None)
        for collection in getattr(inner, "collections", {}).values():
            connection = getattr(getattr(collection, "storage", None), "storage", None)
            if isinstance(connection, sqlite3.Connection):
                try:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=NORMAL")
                except sqlite3.Error as exc:
                    logger.debug("vector memory: cannot tune local storage: {}", exc)

    # -- writing ------------------------------------------------------------------------------

    def upsert(self, kind: Kind | str, documents: Iterable[Document]) -> int:
        """Add or update documents, in batches; returns how many were written."""
        kind = Kind(kind)
        name = self.ensure(kind)
        written = 0
        batch: list[Document] = []
        for document in documents:
            batch.append(document)
            if len(batch) >= BATCH_SIZE:
                written += self._write(kind, name, batch)
                batch = []
        written += self._write(kind, name, batch)
        self._check_size(kind, name)
        return written

    def _write(self, kind: Kind, name: str, documents: Sequence[Document]) -> int:
        if not documents:
            return 0
        from qdrant_client.http import models as qm

        vectors = self.embedder.embed([d.text for d in documents])
        points = [
            qm.PointStruct(
                id=point_id(kind, document.key),
                vector={DENSE: vector.tolist()},
                payload={**document.payload, "key": document.key, "text": document.text},
            )
            for document, vector in zip(documents, vectors, strict=True)
        ]
        with _quiet_size_warning():
            self.client.upsert(name, points=points, wait=True)
        return len(points)

    def set_payload(self, kind: Kind | str, key: str, values: Mapping[str, Any]) -> bool:
        """Merge ``values`` into the payload of ``key``; False when no such point exists."""
        name = self.ensure(kind)
        pid = point_id(kind, key)
        if not self.client.retrieve(name, ids=[pid], with_payload=False, with_vectors=False):
            return False
        self.client.set_payload(name, payload=dict(values), points=[pid], wait=True)
        return True

    def delete(self, kind: Kind | str, keys: Iterable[str]) -> None:
        from qdrant_client.http import models as qm

        ids: list[qm.ExtendedPointId] = [point_id(kind, key) for key in keys]
        if ids:
            self.client.delete(
                self.ensure(kind), points_selector=qm.PointIdsList(points=ids), wait=True
            )

    def delete_where(self, kind: Kind | str, match: Mapping[str, Any]) -> None:
        """Delete every point whose payload has all of ``match``'s values."""
        from qdrant_client.http import models as qm

        selector = qm.FilterSelector(filter=_filter(match))
        self.client.delete(self.ensure(kind), points_selector=selector, wait=True)

    def count(self, kind: Kind | str, match: Mapping[str, Any] | None = None) -> int:
        result = self.client.count(
            self.ensure(kind), count_filter=_filter(match) if match else None, exact=True
        )
        return int(result.count)

    def keys(self, kind: Kind | str, match: Mapping[str, Any] | None = None) -> set[str]:
        """The keys of every point (matching ``match``): for housekeeping, not for hot paths."""
        name = self.ensure(kind)
        out: set[str] = set()
        offset: Any = None
        while True:
            points, offset = self.client.scroll(
                name,
                scroll_filter=_filter(match) if match else None,
                limit=BATCH_SIZE,
                offset=offset,
                with_payload=["key"],
                with_vectors=False,
            )
            out.update(str((p.payload or {}).get("key")) for p in points)
            if offset is None:
                return out

    def metadata(self, kind: Kind | str) -> dict[str, Any]:
        info = self.client.get_collection(self.ensure(kind))
        return dict(getattr(info.config, "metadata", None) or {})

    def set_metadata(self, kind: Kind | str, values: Mapping[str, Any]) -> None:
        self.client.update_collection(self.ensure(kind), metadata=dict(values))

    def _check_size(self, kind: Kind, name: str) -> None:
        if not self.local or self._warned_size:
            return
        total = self.client.count(name, exact=True).count
        if total > LOCAL_MODE_LIMIT:
            self._warned_size = True
            logger.warning(
                "vector memory holds {:,} {} in local mode, which scans them all on every "
                "search; above {:,} a Qdrant server is faster (set AIOPS_QDRANT_URL)",
                total,
                kind,
                LOCAL_MODE_LIMIT,
            )

    # -- searching ----------------------------------------------------------------------------

    def search(
        self,
        kind: Kind | str,
        query: str,
        k: int = 5,
        *,
        where: Mapping[str, Any] | None = None,
        exclude: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The ``k`` best documents for ``query`` by the hybrid score, best first.

        ``where`` keeps only payloads with those values, ``exclude`` drops them (a value may
        be a list: any of them)."""
        kind = Kind(kind)
        name = self.ensure(kind)
        if not query.strip() or k < 1:
            return []
        vector = self.embedder.embed_one(query)
        result = self.client.query_points(
            name,
            query=vector.tolist(),
            using=DENSE,
            limit=max(self.scoring.candidates, k),
            query_filter=_filter(where, exclude),
            with_payload=True,
        )
        points = result.points
        payloads = [dict(p.payload or {}) for p in points]
        lexical_scores = lexical.bm25_scores(query, [str(p.get("text", "")) for p in payloads])
        hits = []
        for point, payload, words in zip(points, payloads, lexical_scores, strict=True):
            cosine = float(point.score)
            mixed = self.scoring.mix(cosine, words, payload.get("kind"))
            hits.append(Hit(payload, round(mixed, 4), round(cosine, 4), round(words, 4)))
        hits.sort(key=lambda h: (-h.score, str(h.payload.get("key", ""))))
        return hits[:k]


# -- helpers ------------------------------------------------------------------------------------


def _filter(
    where: Mapping[str, Any] | None, exclude: Mapping[str, Any] | None = None
) -> qm.Filter | None:
    from qdrant_client.http import models as qm

    def condition(key: str, value: Any) -> qm.FieldCondition:
        if isinstance(value, (list, tuple, set, frozenset)):
            return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(value)))
        return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))

    must: list[qm.Condition] = [condition(k, v) for k, v in (where or {}).items()]
    must_not: list[qm.Condition] = [
        condition(k, v) for k, v in (exclude or {}).items() if v not in (None, [], ())
    ]
    if not must and not must_not:
        return None
    return qm.Filter(must=must or None, must_not=must_not or None)


def _cosine(query: np.ndarray[Any, Any], stored: Any) -> float:
    """Cosine of the query with a vector Qdrant returned (it stores them normalised)."""
    values = stored.get(DENSE) if isinstance(stored, dict) else stored
    if not values:
        return 0.0
    other = np.asarray(values, dtype=np.float32)
    norm = float(np.linalg.norm(other))
    return float(np.dot(query, other) / norm) if norm > 0 else 0.0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _quiet_size_warning() -> Iterator[None]:
    """qdrant-client warns about large local collections on stderr; we say it once, our way."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Local mode is not recommended.*")
        yield
