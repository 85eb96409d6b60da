"""``POST /v1/analyze``: one uploaded file analysed like ``aiops analyze --format json``.

The upload is spooled to a temporary file and read by the same code as a file named on the
command line (format detection, ``.gz``/``.bz2`` by their magic bytes, binary refused,
multi-line folding), so the report is the CLI's JSON contract, byte for byte the same
incidents. It runs on the server's analysis pool, never on the event loop.

Differences from the CLI, on purpose: a fresh miner per upload (the live miner's templates
are the stream's, not this file's) and no miner state file. Vector memory is the live
pipeline's (Qdrant local mode admits one user of its folder), shared under a lock: the report
cites runbooks and similar past incidents as the CLI's does. The upload is stored only when
asked (``?store=true``), as a run of its own, and only then remembered; otherwise it is a
question, not history.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from aiops_copilot.analysis import AnalysisOptions, default_detectors, learn_baseline
from aiops_copilot.analysis import analyze as run_analysis
from aiops_copilot.api.errors import ApiError
from aiops_copilot.config import Settings
from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.ingest.reader import IngestRun, ReadOptions, iter_records, open_inputs
from aiops_copilot.ingest.sources import expand_inputs
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.learning import LearnedRules
from aiops_copilot.memory.runtime import Recall
from aiops_copilot.models import AnalysisResult
from aiops_copilot.parsing.miner import MinerConfig, TemplateMiner
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.sql import Store

DEFAULT_NAME = "upload.log"


class Spool:
    """A temporary file the upload is written to; removed on :meth:`close`."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="aiops-upload-")
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def finish(self) -> None:
        self._file.close()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


def safe_name(name: str | None) -> str:
    """The name the report cites: the uploaded file's base name, never a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base if base and base not in (".", "..") else DEFAULT_NAME


def analyze_upload(
    path: Path,
    name: str,
    settings: Settings,
    kb: KnowledgeBase,
    *,
    store: Store | None = None,
    forced_format: str | None = None,
    record: bool = False,
    memory: Recall | None = None,
) -> AnalysisResult:
    """Analyse the spooled file as ``aiops analyze`` would analyse ``name``: with the rules
    learned from feedback in ``store``, citing ``memory``, and recorded in both when
    ``record`` is set."""
    sources, skipped = expand_inputs([str(path)])
    if not sources:
        reason = skipped[0].reason if skipped else "nothing to read"
        raise ApiError(400, f"{name}: {reason}")
    run = IngestRun(sources=[replace(sources[0], name=name)], skipped=[])
    ingest = settings.ingest
    options = ReadOptions(
        max_line_bytes=ingest.max_line_bytes,
        sample_lines=ingest.sample_lines,
        forced_format=forced_format or ingest.format,
    )
    miner = TemplateMiner(
        MinerConfig(
            similarity=settings.miner.similarity,
            max_constant_values=settings.miner.max_constant_values,
            max_clusters=settings.miner.max_clusters,
        )
    )
    baseline = _baseline(settings, miner, options)
    learned = _learned(store)
    started_at = datetime.now(UTC)
    result = run_analysis(
        run,
        iter_records(run, options),
        miner,
        kb,
        AnalysisOptions(
            window_minutes=settings.detect.window_minutes,
            detectors=default_detectors(baseline),
            memory=memory,
            learned=learned,
        ),
    )
    if record and store is not None:
        try:
            store.record(result, command="api-analyze", started_at=started_at)
        except StoreError as exc:
            raise ApiError(503, f"analysed, but not stored: {exc}") from None
        if memory is not None:  # after the store, as the CLI: its resolution notes
            memory.remember(result.incidents)
    return result


def _learned(store: Store | None) -> LearnedRules:
    if store is None:
        return LearnedRules()
    try:
        return store.learned()
    except StoreError as exc:
        logger.warning("no learned rules: {}", exc)
        return LearnedRules()


def _baseline(settings: Settings, miner: TemplateMiner, options: ReadOptions) -> Baseline | None:
    """``detect.baseline`` files, as ``analyze`` mines them before the file itself."""
    paths = settings.detect.baseline
    if not paths:
        return None
    run = open_inputs([str(p) for p in paths])
    if not run.sources:
        return None
    return learn_baseline(iter_records(run, options), miner)
