"""Bad input for the reading layer: every case ends in exact counts or a one-line message.

Nothing here may raise: a broken file must become a Skip or a ReadStats.error, never a
traceback, because one bad file in ``/var/log`` must not abort the analysis of the rest.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import lzma
import os
import random
import socket
import sys
import tracemalloc
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops_copilot.ingest import reading as reading_mod
from aiops_copilot.ingest import sources as sources_mod
from aiops_copilot.ingest.reading import ReadStats, read_lines
from aiops_copilot.ingest.sources import Skip, Source, expand_inputs

BINARY_REASON = "binary file (NUL bytes in the first 8 KiB)"


def read_all(source: Source, **kw: Any) -> tuple[list[tuple[int, str]], ReadStats]:
    stats = ReadStats()
    return list(read_lines(source, stats, **kw)), stats


def random_binary(n: int, seed: int = 7) -> bytes:
    data = bytearray(random.Random(seed).randbytes(n))
    data[10] = 0  # make sure there is a NUL whatever the seed
    return bytes(data)


# --------------------------------------------------------------------------------------------
# expand_inputs
# --------------------------------------------------------------------------------------------


def test_binary_file_named_explicitly_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "core.dump").write_bytes(random_binary(20000))
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["core.dump"]) == ([], [Skip("core.dump", BINARY_REASON)])


def test_binary_file_inside_folder_is_reported_and_text_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "wtmp").write_bytes(random_binary(4000))
    (tmp_path / "logs" / "app.log").write_bytes(b"ok\n")
    monkeypatch.chdir(tmp_path)
    sources, skips = expand_inputs(["logs"])
    assert [s.name for s in sources] == ["logs/app.log"]
    assert skips == [Skip("logs/wtmp", BINARY_REASON)]


def test_gzipped_binary_is_sniffed_after_decompression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "blob.gz").write_bytes(gzip.compress(b"\x00\x01\x02" * 100))
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["blob.gz"]) == ([], [Skip("blob.gz", BINARY_REASON)])


def test_nul_after_the_first_8_kib_is_not_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late.log").write_bytes(b"x" * 9000 + b"\x00\n")
    monkeypatch.chdir(tmp_path)
    sources, skips = expand_inputs(["late.log"])
    assert [s.name for s in sources] == ["late.log"] and skips == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lzma.compress(b"x\n"), "unsupported compression (xz); decompress it first (xz -d)"),
        (b"PK\x03\x04" + b"\x00" * 30, "zip archive; extract it first"),
        (
            "utf16 log\n".encode("utf-16"),
            "UTF-16 text is not supported; convert it: iconv -f UTF-16 -t UTF-8",
        ),
        (
            b"LPKSHHRH" + b"\x00" * 100,
            "systemd journal file; export it: journalctl --file FILE -o short-iso",
        ),
    ],
    ids=["xz", "zip", "utf16", "journal"],
)
def test_recognised_non_logs_get_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, reason: str
) -> None:
    (tmp_path / "thing").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["thing"]) == ([], [Skip("thing", reason)])


@pytest.mark.parametrize(
    ("layout", "inputs", "skips"),
    [
        ({}, ["missing.log"], [Skip("missing.log", "no such file or directory")]),
        ({}, ["nope/*.log"], [Skip("nope/*.log", "no files match this pattern")]),
        ({"a.txt": b"x\n"}, ["*.log"], [Skip("*.log", "no files match this pattern")]),
        (
            {"logs/pic.png": b"x", "logs/.hidden": b"x\n"},
            ["logs/*"],
            [Skip("logs/*", "pattern matched 1 path(s) but no log files")],
        ),
        ({"empty/": b""}, ["empty"], [Skip("empty", "is a directory with no log files")]),
        (
            {"imgs/a.png": b"x", "imgs/.cache/x.log": b"x\n", "imgs/b.jpg": b"x"},
            ["imgs"],
            [Skip("imgs", "is a directory with no log files")],
        ),
        ({}, [""], [Skip("", "empty path")]),
    ],
    ids=[
        "missing",
        "glob-no-dir",
        "glob-no-match",
        "glob-non-logs",
        "empty-dir",
        "no-logs",
        "empty",
    ],
)
def test_nothing_to_read_is_a_skip(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    layout: dict[str, bytes],
    inputs: list[str],
    skips: list[Skip],
) -> None:
    for rel, content in layout.items():
        path = tmp_path / rel
        if rel.endswith("/"):
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(inputs) == ([], skips)


def test_empty_file_is_a_source_with_zero_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    sources, skips = expand_inputs(["empty.log"])
    assert skips == []
    lines, stats = read_all(sources[0])
    assert lines == []
    assert stats == ReadStats(lines=0, bytes=0)


def test_broken_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dangling.log").symlink_to(tmp_path / "gone.log")
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["dangling.log"]) == ([], [Skip("dangling.log", "broken symbolic link")])


def test_socket_is_not_a_regular_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("needs unix sockets")
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind("run/app.sock")  # relative path: avoids the 108-byte sun_path limit
        (tmp_path / "run" / "app.log").write_bytes(b"x\n")
        sources, skips = expand_inputs(["run/app.sock", "run"])
    finally:
        sock.close()
    assert [s.name for s in sources] == ["run/app.log"]
    assert skips == [
        Skip("run/app.sock", "not a regular file"),
        Skip("run/app.sock", "not a regular file"),
    ]


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="root (and Windows ACLs) can read a chmod 000 file; see the simulated test below",
)
def test_permission_denied_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.log").write_bytes(b"x\n")
    (tmp_path / "secret.log").chmod(0)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.log").write_bytes(b"x\n")
    (tmp_path / "locked").chmod(0)
    monkeypatch.chdir(tmp_path)
    try:
        assert expand_inputs(["secret.log", "locked"]) == (
            [],
            [Skip("secret.log", "permission denied"), Skip("locked", "permission denied")],
        )
        lines, stats = read_all(Source("secret.log", Path("secret.log")))
        assert lines == [] and stats.error == "cannot open: permission denied"
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_permission_denied_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EACCES injected at open(), so the mapping is tested even when the suite runs as root.

    Root bypasses file modes, so a chmod 000 file cannot produce EACCES there; a FIFO or a
    directory would exercise *other* branches ("not a regular file", walks), not this one.
    Patching ``open`` in the module under test is the honest way to reach this branch.
    """
    (tmp_path / "secret.log").write_bytes(b"x\n")
    (tmp_path / "fine.log").write_bytes(b"y\n")
    monkeypatch.chdir(tmp_path)
    real_open = open

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("secret.log"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.log").write_bytes(b"x\n")
    real_scandir = os.scandir

    def fake_scandir(path: Any = ".") -> Any:
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(sources_mod, "open", fake_open, raising=False)
    monkeypatch.setattr(reading_mod, "open", fake_open, raising=False)
    monkeypatch.setattr(os, "scandir", fake_scandir)  # os.walk lists folders with it
    sources, skips = expand_inputs(["secret.log", "fine.log", "locked"])
    assert [s.name for s in sources] == ["fine.log"]
    assert skips == [Skip("secret.log", "permission denied"), Skip("locked", "permission denied")]
    lines, stats = read_all(Source("secret.log", Path("secret.log")))
    assert lines == []
    assert stats.error == "cannot open: permission denied"


def test_unreadable_subfolder_is_reported_and_the_rest_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated like the test above, so that it also runs as root."""
    (tmp_path / "logs" / "private").mkdir(parents=True)
    (tmp_path / "logs" / "private" / "p.log").write_bytes(b"x\n")
    (tmp_path / "logs" / "a.log").write_bytes(b"x\n")
    real_scandir = os.scandir

    def fake_scandir(path: Any = ".") -> Any:
        if os.path.basename(os.fspath(path)) == "private":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    sources, skips = expand_inputs(["logs"])
    assert [s.name for s in sources] == ["logs/a.log"]
    assert skips == [Skip("logs/private", "permission denied")]


# --------------------------------------------------------------------------------------------
# read_lines
# --------------------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced_and_counted_per_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes(b"caf\xe9\nok\n\xff\xfe two \xff bad\nfine \xc3\xa9\ncut \xe2\x82")
    lines, stats = read_all(Source("latin1.log", path))
    assert lines == [
        (1, "caf\ufffd"),
        (2, "ok"),
        (3, "\ufffd\ufffd two \ufffd bad"),
        (4, "fine é"),
        (5, "cut \ufffd"),
    ]
    assert stats.invalid_utf8_lines == 3
    assert stats.lines == 5
    assert stats.error is None


def test_ten_megabyte_line_is_cut_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as fh:
        fh.write(b"before\n")
        for _ in range(10):
            fh.write(b"x" * (1 << 20))  # 10 MiB without a newline
        fh.write(b"\nafter 1\r\nafter 2\n")
    stats = ReadStats()
    tracemalloc.start()
    try:
        got = [(n, len(line), line[:8]) for n, line in read_lines(Source("h", path), stats)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == [(1, 6, "before"), (2, 65536, "x" * 8), (3, 7, "after 1"), (4, 7, "after 2")]
    assert stats.cut_lines == 1
    assert stats.lines == 4
    assert stats.bytes == path.stat().st_size
    assert stats.error is None
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes"


def test_long_multibyte_line_is_cut_on_a_character_boundary(tmp_path: Path) -> None:
    path = tmp_path / "wide.log"
    path.write_bytes("é".encode() * 50_000 + b"\n" + "€".encode() * 30 + b"\nend")
    lines, stats = read_all(Source("w", path), max_line_bytes=1001)
    assert lines == [(1, "é" * 500), (2, "€" * 30), (3, "end")]  # 1001 bytes -> 500 chars
    assert stats.cut_lines == 1
    assert stats.invalid_utf8_lines == 0
    lines, stats = read_all(Source("w", path), max_line_bytes=89)
    assert lines[1] == (2, "€" * 29)  # 90 bytes > 89: cut back to 87 bytes
    assert stats.cut_lines == 2


def test_line_exactly_at_the_limit_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "edge.log"
    path.write_bytes(b"a" * 100 + b"\r\n" + b"b" * 100 + b"\n" + b"c" * 101 + b"\n" + b"d" * 100)
    lines, stats = read_all(Source("e", path), max_line_bytes=100)
    assert [(n, len(t)) for n, t in lines] == [(1, 100), (2, 100), (3, 100), (4, 100)]
    assert stats.cut_lines == 1


def test_no_newline_at_all_in_a_big_sparse_file(tmp_path: Path) -> None:
    """256 MiB of NULs, no newline: one cut line, memory bounded (the 2 GB case, smaller)."""
    path = tmp_path / "sparse"
    with path.open("wb") as fh:
        fh.truncate(256 << 20)
    stats = ReadStats()
    tracemalloc.start()
    try:
        got = [(n, len(line)) for n, line in read_lines(Source("s", path), stats)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == [(1, 65536)]
    assert (stats.cut_lines, stats.bytes) == (1, 256 << 20)
    assert peak < 2 * 1024 * 1024


def _numbered(n: int) -> bytes:
    return b"".join(b"line %d\n" % i for i in range(1, n + 1))


def test_truncated_gz_yields_what_it_can(tmp_path: Path) -> None:
    payload = _numbered(50_000)  # ~490 KB, ~100 KB compressed
    whole = gzip.compress(payload, mtime=0)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    lines, stats = read_all(Source("cut.log.gz", path, "gz"))
    assert stats.truncated is True
    assert stats.error == (
        f"compressed stream ended early (truncated .gz?) after {stats.lines} lines"
    )
    assert "\n" not in stats.error
    assert 1000 < stats.lines < 50_000
    assert len(lines) == stats.lines
    # every complete line is intact and in order; the last one may be the partial line
    assert [t for _, t in lines[:-1]] == [f"line {i}" for i in range(1, len(lines))]
    assert f"line {len(lines)}".startswith(lines[-1][1])


def test_gz_cut_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gz"
    path.write_bytes(gzip.compress(b"x\n")[:5])
    lines, stats = read_all(Source("tiny.gz", path, "gz"))
    assert lines == []
    assert stats.truncated
    assert stats.error == "compressed stream ended early (truncated .gz?) after 0 lines"


def test_corrupt_gz_yields_what_it_can(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(_numbered(20_000), mtime=0))
    mid = len(whole) // 2
    whole[mid : mid + 64] = b"\xff" * 64
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(whole))
    lines, stats = read_all(Source("bad.gz", path, "gz"))
    assert stats.truncated is True
    assert stats.error is not None
    assert stats.error.startswith("corrupt .gz data (")
    assert stats.error.endswith(f") after {stats.lines} lines")
    assert 0 < len(lines) == stats.lines < 20_000


def test_bad_crc_is_reported(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(b"a\nb\n", mtime=0))
    whole[-8] ^= 0xFF  # CRC32 in the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(whole))
    lines, stats = read_all(Source("crc.gz", path))
    assert lines == [(1, "a"), (2, "b")]
    assert stats.truncated is True
    assert stats.error == "corrupt .gz data (incorrect data check) after 2 lines"


def test_trailing_garbage_after_gz(tmp_path: Path) -> None:
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + b"garbage that is not gzip")
    lines, stats = read_all(Source("tail.gz", path))
    assert lines == [(1, "a"), (2, "b")]
    assert stats.truncated is False
    assert stats.error == "ignored trailing data that is not gzip after 2 lines"


def test_truncated_bz2(tmp_path: Path) -> None:
    payload = _numbered(200_000)  # several 900k bzip2 blocks
    whole = bz2.compress(payload)
    path = tmp_path / "cut.bz2"
    path.write_bytes(whole[: len(whole) * 3 // 4])
    lines, stats = read_all(Source("cut.bz2", path))
    assert stats.truncated is True
    assert stats.error == (
        f"compressed stream ended early (truncated .bz2?) after {stats.lines} lines"
    )
    assert len(lines) == stats.lines > 0
    assert lines[0] == (1, "line 1")


def test_file_vanished_before_reading(tmp_path: Path) -> None:
    lines, stats = read_all(Source("gone.log", tmp_path / "gone.log"))
    assert lines == []
    assert stats.error == "cannot open: no such file or directory"


def test_directory_passed_to_read_lines(tmp_path: Path) -> None:
    lines, stats = read_all(Source("dir", tmp_path))
    assert lines == []
    assert stats.error == "cannot open: is a directory"


class FailingStream(io.RawIOBase):
    """Gives ``data`` and then fails like a disk with a bad sector."""

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._data is None:
            raise OSError(errno.EIO, "Input/output error")
        out, self._data = self._data, None
        return out

    read1 = read


@pytest.mark.parametrize("wrap", [lambda b: b, lambda b: gzip.compress(b)[:-10]])
def test_oserror_mid_read_stops_with_a_message(wrap: Any) -> None:
    data = wrap(b"one\ntwo\nthr")
    lines, stats = read_all(Source("<stdin>", None), stdin=FailingStream(data))
    assert lines[:2] == [(1, "one"), (2, "two")]
    assert stats.error == f"read error after {stats.lines} lines: input/output error"
    assert stats.truncated is False


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


def _cut_ref(b: bytes, limit: int) -> bytes:
    if len(b) <= limit:
        return b
    end = limit
    while end > limit - 3 and (b[end] & 0xC0) == 0x80:
        end -= 1
    return b[:end] if (b[end] & 0xC0) != 0x80 else b[:limit]


def _reference(data: bytes, limit: int = 1 << 30) -> list[str]:
    """The obvious (unbounded-memory) model of read_lines, for plain input."""
    parts = data.split(b"\n")
    last = parts.pop()  # the text after the last newline: a line only if not empty
    raw = [p[:-1] if p.endswith(b"\r") else p for p in parts]
    if last:
        raw.append(last)  # no terminator: a trailing \r is data
    return [_cut_ref(p, limit).decode("utf-8", "replace") for p in raw]


class Pieces(io.RawIOBase):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = list(pieces)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    read1 = read


_line_bytes = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=20).map(str.encode),
        st.sampled_from([b"\r", b"\n", b"\r\n", b"\xc3", b"\xa9", b"\xe2\x82\xac", b"\x00"]),
    ),
    max_size=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    chunks=_line_bytes,
    split=st.lists(st.integers(1, 50), max_size=20),
    limit=st.one_of(st.none(), st.integers(4, 40)),
)
def test_any_bytes_round_trip(chunks: list[bytes], split: list[int], limit: int | None) -> None:
    data = b"".join(chunks)
    if data[:2] == b"\x1f\x8b" or data[:3] == b"BZh":  # would be read as compressed
        data = b"x" + data
    # deliver the bytes in arbitrary pieces, as a pipe would
    pieces, pos = [], 0
    for n in split:
        pieces.append(data[pos : pos + n])
        pos += n
    pieces.append(data[pos:])
    pieces = [p for p in pieces if p]
    stats = ReadStats()
    stream = cast(BinaryIO, Pieces(pieces))
    if limit is None:
        got = list(read_lines(Source("<stdin>", None), stats, stdin=stream))
    else:
        got = list(read_lines(Source("<stdin>", None), stats, stdin=stream, max_line_bytes=limit))
    expected_count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    expected = _reference(data) if limit is None else _reference(data, limit)
    assert [n for n, _ in got] == list(range(1, expected_count + 1))
    assert [t for _, t in got] == expected
    assert stats.lines == expected_count
    assert stats.bytes == len(data)
    assert (
        stats.invalid_utf8_lines == sum("\ufffd" in t for t in expected) or b"\xef\xbf\xbd" in data
    )
    if limit is None:
        assert stats.cut_lines == 0
    assert stats.error is None


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), limit=st.integers(4, 64), compress=st.booleans())
def test_any_bytes_with_small_limit_never_raise(data: bytes, limit: int, compress: bool) -> None:
    payload = gzip.compress(data) if compress else data
    stats = ReadStats()
    got = list(
        read_lines(Source("<stdin>", None), stats, max_line_bytes=limit, stdin=io.BytesIO(payload))
    )
    if not compress and (data[:2] == b"\x1f\x8b" or data[:3] == b"BZh"):
        return  # arbitrary bytes that look compressed: only "never raises" is promised
    assert len(got) == data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    assert all(len(t.encode("utf-8", "surrogatepass")) <= limit * 3 for _, t in got)
    assert stats.error is None


_PAYLOAD = b"".join(b"%d some log text \xc3\xa9\n" % i for i in range(3000))
_COMPRESSED = {"gz": gzip.compress(_PAYLOAD, mtime=0), "bz2": bz2.compress(_PAYLOAD)}


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["gz", "bz2"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=3),
)
def test_damaged_compressed_input_never_raises(
    kind: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(_COMPRESSED[kind])
    for where, xor in flips:
        pos = min(len(data) - 1, 4 + int(where * (len(data) - 4)))  # keep the magic intact
        data[pos] ^= xor
    data = data[: max(4, int(cut * len(data)))] if cut < 1.0 else data
    stats = ReadStats()
    got = list(read_lines(Source("<stdin>", None), stats, stdin=io.BytesIO(bytes(data))))
    assert [n for n, _ in got] == list(range(1, len(got) + 1))
    assert stats.lines == len(got)
    if stats.error is not None:
        assert "\n" not in stats.error
    elif not flips:
        assert got == [(i + 1, t) for i, t in enumerate(_PAYLOAD.decode().splitlines())]
