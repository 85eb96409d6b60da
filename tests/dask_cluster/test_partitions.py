"""Partitioning and merging without a cluster: the planner, the worker function and the merge
run in this process, so hundreds of cut points can be checked in a second.

A partitioned run must give what the single-process run gives — the same records (no stack
trace split at a cut), templates, template ids and counts, incidents, summary and sessions —
whatever the partition size and whatever order the partitions finish in (they are fed to
the merge backwards here).
"""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops_copilot.distributed.cuts import gzip_cuts, plain_cuts, record_start_rule
from aiops_copilot.distributed.plan import plan_partitions
from aiops_copilot.distributed.progress import ClusterProgress
from aiops_copilot.distributed.task import mine_partition
from aiops_copilot.ingest.formats import get_format
from aiops_copilot.ingest.reader import ReadOptions, open_inputs
from aiops_copilot.ingest.reading import ReadStats, read_lines
from aiops_copilot.ingest.sources import Source
from aiops_copilot.parsing.miner import MinerConfig
from dask_cluster.dask_support import (
    EXAMPLES,
    FORMATS,
    LOGHUB,
    SHIPPED,
    first_lines,
    must_match,
    partitioned,
    single,
)


def _same(paths: list[Path], partition_bytes: int, options: ReadOptions | None = None) -> None:
    expected = single(paths, options, cached=all(p.is_relative_to(SHIPPED) for p in paths))
    got = partitioned(paths, None, partition_bytes=partition_bytes, options=options)
    assert must_match(got) == must_match(expected)
    assert first_lines(got) == first_lines(expected)


def test_cut_files_analyse_like_one_process() -> None:
    paths = [LOGHUB, EXAMPLES]
    planned = plan_partitions(open_inputs([str(p) for p in paths]), ReadOptions(), 4096)
    assert len(planned) > 3 * len({p.source_index for p in planned})  # really cut
    _same(paths, 4096)


@pytest.mark.parametrize("content_only", [False, True])
def test_every_format_and_multiline_crash_survives_tiny_partitions(content_only: bool) -> None:
    # 60-byte parts: a cut is wanted on nearly every line, of every format the project reads,
    # Python/Go/Node crashes and Java traces included.
    _same([FORMATS], 60, ReadOptions(content_only=content_only))


def test_a_cut_never_lands_inside_a_stack_trace(tmp_path: Path) -> None:
    trace = (
        "2024-05-01 12:00:{s:02d},100 ERROR app: request {n} failed\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app.py", line 3, in main\n'
        "    raise ValueError('bad')\n"
        "    ^^^^^^^^^^^^^^^^^^^^^^^\n"
        "ValueError: bad\n"
        "\n"
        "2024-05-01 12:00:{s:02d},200 INFO app: request {n} done\n"
    )
    log = tmp_path / "app.log"
    log.write_text("".join(trace.format(s=n % 60, n=n) for n in range(40)), encoding="utf-8")
    spec = get_format("python_logging")
    sample = log.read_text(encoding="utf-8").splitlines()[:200]
    starts = record_start_rule(spec.fit(sample), multiline=spec.multiline)
    cuts = plain_cuts(log, log.stat().st_size, 50, starts)
    assert len(cuts) > 20
    text = log.read_bytes()
    for cut in cuts[1:]:
        assert text[cut - 1 : cut] == b"\n"
        assert text[cut:].startswith(b"2024-05-01 12:00:")
    _same([log], 50)


def test_a_byte_range_reads_its_lines_numbered_from_one(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\r\nthree\nfour")
    source = Source(name="a.log", path=log, size=log.stat().st_size)
    stats = ReadStats()
    assert list(read_lines(source, stats, span=(4, 15))) == [(1, "two"), (2, "three")]
    assert (stats.lines, stats.bytes) == (2, 11)
    assert list(read_lines(source, ReadStats(), span=(15, 1 << 60))) == [(1, "four")]
    with pytest.raises(ValueError):
        read_lines(Source(name="-", path=None), ReadStats(), span=(0, 1))


def _multi_member_gzip(text: bytes, path: Path, seed: int) -> None:
    """Write ``text`` as gzip members that end at random line ends (some inside a stack
    trace) and at a few random bytes (mid-line)."""
    rng = random.Random(seed)
    line_ends = [i + 1 for i, byte in enumerate(text[:-1]) if byte == ord("\n")]
    cuts = sorted({*rng.sample(line_ends, 40), *rng.sample(range(1, len(text)), 5)})
    with path.open("wb") as out:
        for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True):
            out.write(gzip.compress(text[start:end], mtime=0))


def test_a_multi_member_gzip_is_cut_at_member_starts_only(tmp_path: Path) -> None:
    # Spring Boot lines with Java traces ("Caused by:", "\tat ...", "... 48 more").
    text = (FORMATS / "log4j" / "spring-boot.log").read_bytes() * 20
    log = tmp_path / "spring.log.gz"
    _multi_member_gzip(text, log, seed=7)
    single_member = tmp_path / "one.log.gz"
    single_member.write_bytes(gzip.compress(text, mtime=0))
    spec = get_format("log4j")
    starts = record_start_rule(spec.fit([]), multiline=True)
    assert gzip_cuts(single_member, 100, starts) is None  # one member: one partition
    spans = gzip_cuts(log, 100, starts)
    assert spans is not None and len(spans) > 3
    assert [a for a, _ in spans[1:]] == [b for _, b in spans[:-1]]  # back to back
    _same([log], 100)
    _same([log, single_member], 100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "2024-05-01 12:00:01,100 ERROR app: request failed",
                "2024-05-01 12:00:02,200 INFO app: request done",
                "Traceback (most recent call last):",
                '  File "/srv/app.py", line 3, in main',
                "    raise ValueError('x')",
                "    ^^^^^^",
                "ValueError: x",
                "KeyError: 'k'",
                "\tat com.example.Foo.bar(Foo.java:42)",
                "Caused by: java.io.IOException: boom",
                "",
                "just some words",
            ]
        ),
        min_size=1,
        max_size=60,
    ),
    partition_bytes=st.integers(min_value=1, max_value=200),
)
def test_random_line_mixtures_fold_the_same_in_parts(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], partition_bytes: int
) -> None:
    folder = tmp_path_factory.mktemp("mix")
    log = folder / "mix.log"
    head = "2024-05-01 12:00:00,000 INFO app: start\n"
    log.write_text(head * 3 + "\n".join(lines) + "\n", encoding="utf-8")
    expected = single([log])
    got = partitioned([log], None, partition_bytes=partition_bytes)
    assert must_match(got) == must_match(expected)
    assert first_lines(got) == first_lines(expected)


def test_progress_shows_each_worker_and_its_throughput() -> None:
    run = open_inputs([str(LOGHUB / "HDFS.log"), str(LOGHUB / "Linux.log")])
    partitions = plan_partitions(run, ReadOptions(), 16384)
    stream = io.StringIO()
    with ClusterProgress(enabled=True, stream=stream) as progress:
        progress.begin(len(partitions))
        for partition in partitions:
            progress.add(mine_partition(partition, ReadOptions(), MinerConfig()))
    drawn = stream.getvalue()
    assert "dask: partitions" in drawn and "lines/s" in drawn and "driver" in drawn
    tally = progress.workers["driver"]
    assert tally.partitions == len(partitions) > 2
    assert tally.lines == sum(1 for _ in (LOGHUB / "HDFS.log").open()) + sum(
        1 for _ in (LOGHUB / "Linux.log").open()
    )
    assert progress.summary().startswith(f"driver: {len(partitions)} partitions, ")
    quiet = ClusterProgress(enabled=True, quiet=True)
    assert quiet.enabled is False  # --quiet always wins
