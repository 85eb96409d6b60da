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


def record_tokens(miner: TemplateMiner, record: LogRecord) -> tuple[list[str], int]:
    """The token sequence the miner would mine for ``record`` and where its literal (identity)
    tokens begin, without mining it: structured formats contribute their field keys, formats
    with identity fields (an access log's status) their values, kept literally.

    The Dask engine's workers tokenize with this and the driver mines the distinct sequences
    (:meth:`TemplateMiner.absorb`); :func:`mine_record` uses it too, so the two cannot drift.
    """
    spec = _spec(record.format) if record.format else None
    fields: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    if spec is not None and record.fields:
        if spec.mine_field_keys:
            fields = record.fields
        if spec.identity_fields:
            identity = {k: record.fields[k] for k in spec.identity_fields if k in record.fields}
    tokens = miner.tokenize(record.message, fields, identity)
    return tokens, len(tokens) - len(identity or ())


def mine_record(miner: TemplateMiner, record: LogRecord) -> Cluster:
    """Add one record to the miner (what :meth:`TemplateMiner.add` does, through
    :func:`record_tokens`)."""
    tokens, literal_from = record_tokens(miner, record)
    timestamp = record.timestamp
    return miner.absorb(
        tokens, literal_from, message=record.message, first_seen=timestamp, last_seen=timestamp
    )
