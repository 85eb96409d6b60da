"""What of a record the miner sees: its message, plus what its format says about its fields.

Kept apart from the CLI so that every entry point (``analyze``, ``templates``, later the
watcher and the API) mines a record the same way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aiops_copilot.ingest.formats import get_format
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.models import LogRecord
from aiops_copilot.parsing.miner import Cluster, TemplateMiner


@lru_cache(maxsize=64)
def _spec(name: str) -> FormatSpec | None:
    try:
        return get_format(name)
    except KeyError:
        return None


def mine_record(miner: TemplateMiner, record: LogRecord) -> Cluster:
    """Add one record to the miner: structured formats contribute their field keys, formats
    with identity fields (an access log's status) their values, kept literally."""
    spec = _spec(record.format) if record.format else None
    fields: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    if spec is not None and record.fields:
        if spec.mine_field_keys:
            fields = record.fields
        if spec.identity_fields:
            identity = {k: record.fields[k] for k in spec.identity_fields if k in record.fields}
    return miner.add(record.message, fields=fields, identity=identity, timestamp=record.timestamp)
