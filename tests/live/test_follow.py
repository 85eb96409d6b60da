"""The follower: tail -F semantics on real files, with a writer racing it in another thread."""

from __future__ import annotations

import gzip
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aiops_copilot.live.follow import Follower, FollowOptions
from aiops_copilot.live.positions import PositionBook
from aiops_copilot.models import LogRecord

FAST = FollowOptions(settle_seconds=0.2, rotate_grace=0.5, discover_seconds=0.1)
_NUMBER = re.compile(r"request (\d+) ")


def line(n: int) -> str:
    """One log line carrying its own number, so every line can be accounted for."""
    stamp = f"2026-11-23 23:{n // 600 % 60:02d}:{n // 10 % 60:02d},{n % 10:03d}"
    return f"{stamp} INFO api: request {n} served in 12 ms\n"


def numbers(records: list[LogRecord]) -> list[int]:
    found = []
    for record in records:
        match = _NUMBER.search(record.message)
        assert match is not None, record.message
        found.append(int(match.group(1)))
    return found


class Polling:
    """A follower polled in a background thread, as ``aiops watch`` polls it."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.records: list[LogRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for batch in self.follower.poll():
                with self._lock:
                    self.records.extend(batch)
            if not self.follower.busy:
                time.sleep(0.01)

    def __enter__(self) -> Polling:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def count(self) -> int:
        with self._lock:
            return len(self.records)

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            assert time.monotonic() < deadline, f"only {self.count()} of {count} records came"
            time.sleep(0.02)


def poll_all(follower: Follower, until: Callable[[list[LogRecord]], bool]) -> list[LogRecord]:
    """Poll in this thread (at least once) until ``until`` holds (bounded)."""
    got: list[LogRecord] = []
    deadline = time.monotonic() + 20
    while True:
        for batch in follower.poll():
            got.extend(batch)
        if until(got):
            return got
        assert time.monotonic() < deadline, f"stuck at {len(got)} records"
        time.sleep(0.01)


def test_appends_rotation_and_truncation_while_watching_lose_no_line(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "api.log"
    log.write_text("")
    follower = Follower([str(folder)], FAST)
    follower.start()  # watching begins: what is written from here on must all come through
    written = 0

    def write(handle, count: int) -> None:  # type: ignore[no-untyped-def]
        nonlocal written
        for _ in range(count):
            handle.write(line(written))
            written += 1
            if written % 97 == 0:
                handle.flush()  # partial lines reach the disk too: the buffer cuts anywhere
                time.sleep(0.001)
        handle.flush()

    with Polling(follower) as polling:
        with log.open("a", buffering=8192) as out:
            write(out, 1500)
            # logrotate (create): rename, the writer still has the old file open for a while
            os.rename(log, folder / "api.log.1")
            write(out, 200)
        with log.open("a", buffering=8192) as out:
            write(out, 1500)
        polling.wait_for(written)
        # copytruncate: the copy is left alone (a rotated name), the file starts over
        (folder / "api.log.2").write_bytes((folder / "api.log").read_bytes())
        with log.open("r+") as out:
            out.truncate(0)
        with log.open("a", buffering=8192) as out:
            write(out, 800)
        polling.wait_for(written)
        time.sleep(0.5)  # long enough for a duplicate, if there were one, to show up
    got = numbers(polling.records)
    assert len(got) == written == 4000
    assert sorted(got) == list(range(written))
    assert follower.stats.rotations >= 1 and follower.stats.truncations >= 1
    # Each file's lines are cited where they are: numbers restart in the new file.
    by_number = {n: r for n, r in zip(got, polling.records, strict=True)}
    assert by_number[0].line_no == 1 and by_number[1700].line_no == 1


def test_a_restart_resumes_where_it_stopped_without_duplicates(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("".join(line(n) for n in range(50)))
    book = tmp_path / "positions.json"
    first = Follower([str(log)], FAST, positions=PositionBook(book))
    # Present at start, no saved position: like tail, from the end.
    assert poll_all(first, lambda got: True) == []
    with log.open("a") as out:
        out.write("".join(line(n) for n in range(50, 120)))
    got = poll_all(first, lambda got: len(got) >= 70)
    got += [r for batch in first.finish() for r in batch]
    first.commit()
    first.close()
    assert numbers(got) == list(range(50, 120))
    assert got[0].line_no == 51  # line numbers still match the file

    with log.open("a") as out:
        out.write("".join(line(n) for n in range(120, 130)))
        out.write("2026-11-23 23:59:59,000 INFO api: request 130 half-writ")  # no newline yet
    second = Follower([str(log)], FAST, positions=PositionBook(book))
    again = poll_all(second, lambda got: len(got) >= 10)
    again += [r for batch in second.finish() for r in batch]
    second.commit()
    second.close()
    assert numbers(again) == list(range(120, 130))  # the unfinished line waits for its end

    with log.open("a") as out:
        out.write("ten\n")
    third = Follower([str(log)], FAST, positions=PositionBook(book))
    last = poll_all(third, lambda got: len(got) >= 1)
    assert [r.line_no for r in last] == [131]
    assert last[0].raw.endswith("request 130 half-written")


def test_a_file_rotated_while_stopped_is_finished_first(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("")
    book = tmp_path / "positions.json"
    first = Follower([str(log)], FAST, positions=PositionBook(book))
    first.start()
    with log.open("a") as out:
        out.write("".join(line(n) for n in range(20)))
    assert len(poll_all(first, lambda got: len(got) >= 20)) == 20
    first.commit()
    first.close()
    with log.open("a") as out:  # written after we stopped, then rotated away
        out.write("".join(line(n) for n in range(20, 30)))
    os.rename(log, tmp_path / "api.log.1")
    log.write_text("".join(line(n) for n in range(30, 40)))
    second = Follower([str(log)], FAST, positions=PositionBook(book))
    got = poll_all(second, lambda got: len(got) >= 20)
    got += [r for batch in second.finish() for r in batch]
    assert sorted(numbers(got)) == list(range(20, 40))


def test_truncated_and_regrown_while_stopped_is_read_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("")
    book = tmp_path / "positions.json"
    first = Follower([str(log)], FAST, positions=PositionBook(book))
    first.start()
    with log.open("a") as out:
        out.write("".join(line(n) for n in range(10)))
    poll_all(first, lambda got: len(got) >= 10)
    first.commit()
    first.close()
    log.write_text("".join(line(n) for n in range(100, 130)))  # same inode, longer, new head
    second = Follower([str(log)], FAST, positions=PositionBook(book))
    got = poll_all(second, lambda got: len(got) >= 30)
    assert numbers(got) == list(range(100, 130))


def test_new_files_compressed_files_and_rotated_names_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    with gzip.open(folder / "old.log.gz", "wt") as out:
        out.write("".join(line(n) for n in range(5)))
    book = tmp_path / "positions.json"
    follower = Follower([str(folder)], FAST, positions=PositionBook(book))
    assert poll_all(follower, lambda got: True) == []  # history at start: not read by default
    (folder / "web.log").write_text("".join(line(n) for n in range(10, 15)))
    with gzip.open(folder / "archive.gz", "wt") as out:  # a new compressed file: read once
        out.write("".join(line(n) for n in range(20, 25)))
    got = poll_all(follower, lambda got: len(got) >= 10)
    (folder / "web.log.1").write_text("".join(line(n) for n in range(30, 35)))  # rotated name
    time.sleep(0.3)
    got += poll_all(follower, lambda got: True)
    got += [r for batch in follower.finish() for r in batch]
    assert sorted(numbers(got)) == [*range(10, 15), *range(20, 25)]
    follower.commit()
    follower.close()
    again = Follower([str(folder)], FAST, positions=PositionBook(book))
    time.sleep(0.3)
    assert poll_all(again, lambda got: True) == []  # nothing is read twice
    again.close()


def test_a_compressed_file_read_halfway_is_finished_after_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    book = tmp_path / "positions.json"
    small = FollowOptions(settle_seconds=0.2, discover_seconds=0.1, batch_records=2)
    first = Follower([str(folder)], small, positions=PositionBook(book))
    first.start()
    with gzip.open(folder / "batch.gz", "wt") as out:
        out.write("".join(line(n) for n in range(50)))
    time.sleep(0.2)
    got = poll_all(first, lambda got: len(got) > 0)  # 20 records a poll at this size
    first.commit()
    first.close()
    assert numbers(got) == list(range(20))
    second = Follower([str(folder)], small, positions=PositionBook(book))
    rest = poll_all(second, lambda got: len(got) >= 30)
    time.sleep(0.2)
    rest += poll_all(second, lambda got: True)
    assert numbers(rest) == list(range(20, 50))


def test_from_start_reads_what_is_there_and_waits_for_missing_files(tmp_path: Path) -> None:
    present = tmp_path / "a.log"
    present.write_text("".join(line(n) for n in range(3)))
    missing = tmp_path / "b.log"
    follower = Follower(
        [str(present), str(missing)],
        FollowOptions(settle_seconds=0.2, rotate_grace=0.5, discover_seconds=0.1, from_start=True),
    )
    got = poll_all(follower, lambda got: len(got) >= 3)
    assert [f.state for f in follower.files()].count("waiting") == 1
    missing.write_text("".join(line(n) for n in range(3, 6)))
    got += poll_all(follower, lambda got: len(got) >= 3)
    assert sorted(numbers(got)) == list(range(6))


def test_long_lines_are_cut_and_bad_bytes_counted(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("")
    follower = Follower(
        [str(log)],
        FollowOptions(max_line_bytes=256, settle_seconds=0.2, discover_seconds=0.1),
    )
    follower.start()
    with log.open("ab") as out:
        out.write(line(1).encode()[:-1] + b" " + b"x" * 5000 + b"\n")
        out.write(line(2).encode()[:-1] + b" caf\xe9\n")
    got = poll_all(follower, lambda got: len(got) >= 2)
    assert numbers(got) == [1, 2]
    assert len(got[0].raw.encode()) <= 256
    assert "\ufffd" in got[1].raw
    assert (follower.stats.cut_lines, follower.stats.invalid_utf8_lines) == (1, 1)


def test_a_stack_trace_written_in_pieces_is_one_record(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("")
    follower = Follower([str(log)], FAST)
    follower.start()
    head = "2026-11-23 23:00:01,000 ERROR api: request failed\n"
    trace = (
        'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\n'
        "ValueError: bad\n"
    )
    with log.open("a") as out:
        out.write(line(0) + head)
        out.flush()
        for _ in range(3):
            poll_all(follower, lambda got: True)
        out.write(trace)
    got = poll_all(follower, lambda got: len(got) >= 2)
    time.sleep(0.3)
    got += poll_all(follower, lambda got: True)
    assert len(got) == 2
    assert got[1].message.endswith("ValueError: bad") and got[1].end_line == 5
