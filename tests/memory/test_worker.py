"""The memory worker: the same answers as memory opened in-process, and never a lost write or
a failed analysis when the worker dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.config import Settings
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.memory import early
from aiops_copilot.memory.runtime import LazyRecall, recall
from aiops_copilot.memory.vectors import Kind, VectorMemory
from aiops_copilot.memory.worker import BackgroundRecall, can_fork
from aiops_copilot.models import AnalysisResult
from aiops_copilot.parsing.miner import TemplateMiner

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "evals" / "database" / "postgres-connection-leak-slots-exhausted"

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two CPUs")


def settings_for(folder: Path) -> Settings:
    return Settings.model_validate(
        {"memory": {"path": str(folder / "qdrant")}, "store": {"url": str(folder / "a.db")}}
    )


def run(memory: object) -> AnalysisResult:
    inputs = open_inputs([str(CASE / "logs")])
    options = AnalysisOptions(detectors=default_detectors(), memory=memory)  # type: ignore[arg-type]
    return analyze(
        inputs, iter_records(inputs, ReadOptions()), TemplateMiner(), load_knowledge(), options
    )


def test_worker_answers_like_memory_in_process(tmp_path: Path) -> None:
    in_process, worker = tmp_path / "in", tmp_path / "worker"
    for folder in (in_process, worker):
        folder.mkdir()
    lazy = LazyRecall(settings_for(in_process))
    try:
        first = run(lazy)
        lazy.remember(first.incidents)
        again_lazy = run(lazy)
    finally:
        lazy.close()
    background = BackgroundRecall(settings_for(worker))
    try:
        first_bg = run(background)
        assert background.remember(first_bg.incidents) == len(first_bg.incidents) > 0
        again_bg = run(background)
    finally:
        background.close()

    def cited(result: AnalysisResult) -> list[tuple[list[str], list[str]]]:
        return [
            (
                [p.source for p in i.diagnosis.runbooks] if i.diagnosis else [],
                [s.fingerprint for s in i.diagnosis.similar] if i.diagnosis else [],
            )
            for i in result.incidents
        ]

    assert cited(first_bg) == cited(first)
    assert cited(again_bg) == cited(again_lazy)
    # The worker's write was kept: the incidents are in its memory folder.
    with VectorMemory.open(path=worker / "qdrant") as memory:
        assert memory.count(Kind.INCIDENTS) == len(first_bg.incidents)


def test_a_worker_never_asked_is_stopped_without_touching_the_folder(tmp_path: Path) -> None:
    with recall(settings_for(tmp_path), background=True) as memory:
        assert isinstance(memory, BackgroundRecall)
    assert not (tmp_path / "qdrant").exists()


def test_a_dead_worker_means_no_memory_and_one_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    background = BackgroundRecall(settings_for(tmp_path))
    pid = background._process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    background._process.join(10)
    result = run(background)
    assert result.incidents and all(
        not i.diagnosis or not i.diagnosis.similar for i in result.incidents
    )
    assert background.remember(result.incidents) == 0
    background.close()
    warnings = [line for line in capfd.readouterr().err.splitlines() if "memory worker" in line]
    assert len(warnings) == 1 and "running without memory" in warnings[0]


def test_memory_off_starts_no_worker(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.memory.enabled = False
    with recall(settings, background=True) as memory:
        assert memory is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["analyze", "app.log"], True),
        (["-q", "analyze", "--json", "app.log"], True),
        (["analyze", "--no-memory", "app.log"], False),
        (["analyze", "--help"], False),
        (["templates", "app.log"], False),
        (["watch", "app.log"], False),
        ([], False),
    ],
)
def test_the_entry_point_starts_a_worker_only_for_an_analysis_with_memory(
    argv: list[str], expected: bool
) -> None:
    assert early.wanted(argv) is expected


def test_memory_off_in_the_environment_starts_no_early_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIOPS_MEMORY__ENABLED", "false")
    assert not early.wanted(["analyze", "app.log"])


def test_a_worker_started_before_the_settings_answers_once_adopted(tmp_path: Path) -> None:
    early.start_if_useful(["analyze", str(CASE / "logs")])
    background = BackgroundRecall(settings_for(tmp_path))
    try:
        assert early.adopt() is None  # handed over once
        result = run(background)
        assert any(i.diagnosis and i.diagnosis.runbooks for i in result.incidents)
        assert background.remember(result.incidents) == len(result.incidents) > 0
    finally:
        background.close()
    with VectorMemory.open(path=tmp_path / "qdrant") as memory:
        assert memory.count(Kind.INCIDENTS) == len(result.incidents)


def test_an_early_worker_nobody_adopts_leaves_no_trace(tmp_path: Path) -> None:
    early.start_if_useful(["analyze", "app.log"])
    adopted = early.adopt()
    assert adopted is not None
    process, conn = adopted
    conn.send(("close", ()))
    assert conn.poll(60) and conn.recv() == ("ok", None)
    process.join(10)
    assert process.exitcode == 0
    assert not (tmp_path / "qdrant").exists()


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_worker_never_asked_leaves_an_existing_memory_folder_as_it_was(tmp_path: Path) -> None:
    """The worker opens an existing folder before the first request (to be ready sooner):
    that must only read it."""
    lazy = LazyRecall(settings_for(tmp_path))
    try:
        lazy.remember(run(lazy).incidents)
    finally:
        lazy.close()
    before = _snapshot(tmp_path / "qdrant")
    assert before
    background = BackgroundRecall(settings_for(tmp_path))
    conn = background._conn
    # Wait until the worker has opened memory: a request it answers proves it is past that.
    conn.send(("close", ()))
    assert conn.poll(60)
    conn.recv()
    background._process.join(10)
    assert _snapshot(tmp_path / "qdrant") == before
