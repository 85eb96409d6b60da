"""``POST /_bulk``: the Elasticsearch bulk API, as Fluent Bit, Vector and Filebeat send it.

The body is NDJSON: an action line (``{"index": {...}}``, ``{"create": {...}}``, ``update``
or ``delete``) then, except for ``delete``, a document line. Documents of ``index`` and
``create`` become records (their ``message``/``log`` text parsed like a file line, the rest
of the document filling the gaps); ``update`` and ``delete`` touch nothing here and are
answered as no-ops. The answer has the bulk API's shape — ``took``, ``errors``, one item per
action — because shippers read ``errors`` and the items to decide what to retry.

A broken action line makes the whole body meaningless (400, as Elasticsearch answers); a
document that is not a JSON object fails only its own item (status 400 in the items).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiops_copilot.api.decode.common import Builder, Decoded, Entry, decode_text
from aiops_copilot.api.decode.labels import FILE, first
from aiops_copilot.api.errors import ApiError
from aiops_copilot.ingest.formats._util import level_of
from aiops_copilot.ingest.formats.json_lines import load_object
from aiops_copilot.models import Level

ACTIONS = ("index", "create", "update", "delete")
_ids = itertools.count(1)


@dataclass
class BulkRequest:
    """What a bulk body decoded to: the records, and one answer per action."""

    decoded: Decoded
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> bool:
        """As Elasticsearch says it: some item failed (a delete of nothing is not a failure)."""
        return any("error" in next(iter(item.values())) for item in self.items)


def decode_bulk(data: bytes, builder: Builder, *, index: str | None = None) -> BulkRequest:
    text, _ = decode_text(data)
    lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    request = BulkRequest(Decoded())
    by_source: dict[str, list[Entry]] = defaultdict(list)
    actions: dict[str, tuple[str, dict[str, Any]]] = {}  # shippers repeat one action line
    position = 0
    while position < len(lines):
        number, line = lines[position]
        known = actions.get(line)
        action, meta = known if known is not None else _action(number, line)
        if known is None and "_id" not in meta and len(actions) < 64:
            actions[line] = (action, meta)
        position += 1
        target = str(meta.get("_index") or index or "logs")
        doc_id = str(meta.get("_id") or f"aiops-{next(_ids)}")
        if action == "delete":
            request.items.append(_item(action, target, doc_id, 404, result="not_found"))
            continue
        if position >= len(lines):
            raise ApiError(400, f"line {number}: the {action} action has no document line after it")
        doc_number, doc_line = lines[position]
        position += 1
        if action == "update":
            request.items.append(_item(action, target, doc_id, 200, result="noop"))
            continue
        doc = load_object(doc_line.strip())
        if doc is None:
            reason = f"line {doc_number}: the document is not a JSON object"
            request.decoded.skip(reason)
            request.items.append(_failed(action, target, doc_id, reason))
            continue
        by_source[_source(doc, target)].append(_entry(doc, doc_line))
        request.items.append(_item(action, target, doc_id, 201, result="created"))
    if not request.items:
        raise ApiError(400, "request body is required: action and document lines (bulk API)")
    for source, entries in by_source.items():
        builder.batch(source, entries, request.decoded)
    return request


def _action(number: int, line: str) -> tuple[str, dict[str, Any]]:
    data = load_object(line.strip())
    if data is None or len(data) != 1:
        raise ApiError(
            400,
            f"line {number}: malformed action/metadata line, expected an object with one of "
            + ", ".join(ACTIONS),
        )
    action, meta = next(iter(data.items()))
    if action not in ACTIONS or not isinstance(meta, dict):
        raise ApiError(
            400, f"line {number}: unknown action {action!r}; expected {', '.join(ACTIONS)}"
        )
    return action, meta


def _entry(doc: dict[str, Any], line: str) -> Entry:
    """The document as an entry; ECS keeps the level nested (``{"log": {"level": ...}}``)."""
    nested = doc.get("log")
    level = Level.UNKNOWN
    if isinstance(nested, dict) and isinstance(nested.get("level"), str):
        level = level_of(nested["level"])
    return Entry(text=line.strip(), level=level, data=doc)


def _source(doc: dict[str, Any], index: str) -> str:
    """The file a document came from when the shipper says (Filebeat ``log.file.path``,
    Vector ``file``), else the index it was sent to."""
    nested = doc.get("log")
    if isinstance(nested, dict):
        file = nested.get("file")
        if isinstance(file, dict) and isinstance(file.get("path"), str) and file["path"]:
            return str(file["path"])
    return first(doc, FILE) or f"elasticsearch/{index}"


def _item(action: str, index: str, doc_id: str, status: int, *, result: str) -> dict[str, Any]:
    return {
        action: {
            "_index": index,
            "_id": doc_id,
            "_version": 1,
            "result": result,
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": 0,
            "_primary_term": 1,
            "status": status,
        }
    }


def _failed(action: str, index: str, doc_id: str, reason: str) -> dict[str, Any]:
    return {
        action: {
            "_index": index,
            "_id": doc_id,
            "status": 400,
            "error": {"type": "document_parsing_exception", "reason": reason},
        }
    }
