"""Expanding inputs into sources and reading them line by line: the happy paths.

Bad input (binary, damaged, huge, unreadable) lives in ``test_bad_input.py``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
from pathlib import Path

import pytest

from aiops_copilot.ingest.progress import ReadProgress
from aiops_copilot.ingest.reading import ReadStats, read_lines
from aiops_copilot.ingest.sources import (
    Skip,
    Source,
    expand_inputs,
    rotation_key,
    total_size,
)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def bz(data: bytes) -> bytes:
    return bz2.compress(data)


def build(root: Path, layout: dict[str, bytes]) -> None:
    for rel, content in layout.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def read_all(source: Source, **kw: object) -> tuple[list[tuple[int, str]], ReadStats]:
    stats = ReadStats()
    lines = list(read_lines(source, stats, **kw))  # type: ignore[arg-type]
    return lines, stats


T = b"line\n"  # generic text content

# --------------------------------------------------------------------------------------------
# expand_inputs: table-driven
# --------------------------------------------------------------------------------------------

EXPAND_CASES = [
    pytest.param(
        {
            "logs/a.log": T,
            "logs/sub/b.txt": T,
            "logs/sub/deeper/c": T,
            "logs/.hidden.log": T,
            "logs/.git/config.log": T,
            "logs/pic.png": T,
            "logs/bundle.tar.gz": gz(T),
            "logs/lib.so": T,
        },
        ["logs"],
        ["logs/a.log", "logs/sub/b.txt", "logs/sub/deeper/c"],
        [],
        id="folder-recursive-hidden-and-denylist-skipped-silently",
    ),
    pytest.param(
        {"logs/a.log": T, "logs/b.log": T, "logs/c.txt": T, "logs/sub/d.log": T},
        ["logs/*.log"],
        ["logs/a.log", "logs/b.log"],
        [],
        id="glob-star-not-recursive",
    ),
    pytest.param(
        {"logs/a.log": T, "logs/x/b.log": T, "logs/x/y/c.log": T, "logs/x/y/c.txt": T},
        ["logs/**/*.log"],
        ["logs/a.log", "logs/x/b.log", "logs/x/y/c.log"],
        [],
        id="glob-double-star-recursive",
    ),
    pytest.param(
        {"web1.log": T, "web2.log": T, "web10.log": T, "db1.log": T},
        ["web?.log"],
        ["web1.log", "web2.log"],
        [],
        id="glob-question-mark",
    ),
    pytest.param(
        {"web1.log": T, "web2.log": T, "web3.log": T},
        ["web[13].log"],
        ["web1.log", "web3.log"],
        [],
        id="glob-bracket",
    ),
    pytest.param(
        {"logs/a.log": T, "logs/.secret.log": T},
        ["logs/*"],
        ["logs/a.log"],
        [],
        id="glob-skips-hidden",
    ),
    pytest.param(
        {"logs/sub/a.log": T, "logs/b.log": T},
        ["logs/*"],
        ["logs/b.log", "logs/sub/a.log"],
        [],
        id="glob-matching-folder-walks-it",
    ),
    pytest.param(
        {"a.log": T},
        ["a.log", "./a.log", "a.log"],
        ["a.log"],
        [
            Skip("./a.log", "already included (same file as a.log)"),
            Skip("a.log", "already included (same file as a.log)"),
        ],
        id="duplicates-named-explicitly-reported",
    ),
    pytest.param(
        {"logs/a.log": T, "logs/b.log": T},
        ["logs", "logs/*.log", "logs/**"],
        ["logs/a.log", "logs/b.log"],
        [],
        id="overlap-between-folder-and-globs-silent",
    ),
    pytest.param(
        {
            "app.log": T,
            "app.log.1": T,
            "app.log.2.gz": gz(T),
            "app.log.10.bz2": bz(T),
            "app.log.3": T,
        },
        ["."],
        ["app.log.10.bz2", "app.log.3", "app.log.2.gz", "app.log.1", "app.log"],
        [],
        id="rotated-numbers-oldest-first",
    ),
    pytest.param(
        {
            "app.log": T,
            "app.log-20261120.gz": gz(T),
            "app.log-20261119": T,
            "app.log-20261121.bz2": bz(T),
        },
        ["."],
        ["app.log-20261119", "app.log-20261120.gz", "app.log-20261121.bz2", "app.log"],
        [],
        id="rotated-date-suffix-ascending-then-live",
    ),
    pytest.param(
        {"app.log": T, "app-2026-11-20.log": T, "app-2026-11-02.log": T, "app-2025-12-31.log": T},
        ["."],
        ["app-2025-12-31.log", "app-2026-11-02.log", "app-2026-11-20.log", "app.log"],
        [],
        id="rotated-date-in-stem",
    ),
    pytest.param(
        {
            "app.log": T,
            "app.log.1": T,
            "app.log.2.gz": gz(T),
            "zeta.log": T,
            "other.log": T,
        },
        # the alphabetical order a shell gives for `app.log* zeta.log other.log`
        ["app.log", "app.log.1", "app.log.2.gz", "zeta.log", "other.log"],
        ["app.log.2.gz", "app.log.1", "app.log", "zeta.log", "other.log"],
        [],
        id="rotated-set-regrouped-other-inputs-keep-order",
    ),
    pytest.param(
        {"a/app.log": T, "a/app.log.1": T, "b/app.log": T, "b/app.log.1": T},
        ["a", "b"],
        ["a/app.log.1", "a/app.log", "b/app.log.1", "b/app.log"],
        [],
        id="rotated-sets-are-per-folder",
    ),
    pytest.param(
        {"syslog": T, "syslog.1": T, "syslog.2.gz": gz(T), "syslog.10.gz": gz(T)},
        ["syslog*"],
        ["syslog.10.gz", "syslog.2.gz", "syslog.1", "syslog"],
        [],
        id="rotated-numbers-compare-numerically-not-as-text",
    ),
    pytest.param(
        {"notes.png": T, ".hidden.log": T},
        ["notes.png", ".hidden.log"],
        ["notes.png", ".hidden.log"],
        [],
        id="explicit-names-bypass-denylist-and-hidden-rule",
    ),
    pytest.param(
        {"app[1].log": T},
        ["app[1].log"],
        ["app[1].log"],
        [],
        id="existing-path-with-glob-chars-taken-literally",
    ),
    pytest.param(
        {"a.log": T},
        ["-", "a.log", "-"],
        ["<stdin>", "a.log"],
        [Skip("-", "standard input named more than once")],
        id="stdin-at-most-once",
    ),
    pytest.param(
        {},
        [],
        [],
        [],
        id="nothing-named",
    ),
]


@pytest.mark.parametrize(("layout", "inputs", "names", "skips"), EXPAND_CASES)
def test_expand_inputs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    layout: dict[str, bytes],
    inputs: list[str],
    names: list[str],
    skips: list[Skip],
) -> None:
    build(tmp_path, layout)
    monkeypatch.chdir(tmp_path)
    sources, got_skips = expand_inputs(inputs, stdin=io.BytesIO())
    assert [s.name for s in sources] == names
    assert got_skips == skips


def test_sources_carry_path_size_and_compression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path, {"p.log": b"abc\n", "g.log.gz": gz(b"x\n"), "b.log.bz2": bz(b"y\n")})
    monkeypatch.chdir(tmp_path)
    sources, skips = expand_inputs(["p.log", "g.log.gz", "b.log.bz2", "-"], stdin=io.BytesIO())
    assert skips == []
    by_name = {s.name: s for s in sources}
    assert by_name["p.log"] == Source("p.log", Path("p.log"), None, 4)
    assert by_name["g.log.gz"].compression == "gz"
    assert by_name["g.log.gz"].size == (tmp_path / "g.log.gz").stat().st_size
    assert by_name["b.log.bz2"].compression == "bz2"
    assert by_name["<stdin>"] == Source("<stdin>", None, None, None)


def test_compression_detected_from_magic_not_suffix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(
        tmp_path,
        {"renamed.log": gz(b"zipped\n"), "plain.gz": b"not zipped\n", "bz": bz(b"b\n")},
    )
    monkeypatch.chdir(tmp_path)
    sources, _ = expand_inputs(["renamed.log", "plain.gz", "bz"])
    assert {s.name: s.compression for s in sources} == {
        "renamed.log": "gz",
        "plain.gz": None,
        "bz": "bz2",
    }
    assert read_all(sources[0])[0] == [(1, "zipped")]
    assert read_all(sources[1])[0] == [(1, "not zipped")]


def test_stdin_size_known_when_redirected_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in.log"
    path.write_bytes(b"0123456789\n")
    with path.open("rb") as fh:
        sources, _ = expand_inputs(["-"], stdin=fh)
    assert sources[0].size == 11


def test_order_is_deterministic_whatever_the_creation_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["b.log", "a.log", "B.log", "_x.log", "a.log.1", "é.log", "10.log", "9.log"]
    for i, order in enumerate((names, list(reversed(names)))):
        root = tmp_path / str(i)
        root.mkdir()
        for name in order:
            (root / name).write_bytes(T)
    monkeypatch.chdir(tmp_path)
    first = [s.name.split("/", 1)[1] for s in expand_inputs(["0"])[0]]
    second = [s.name.split("/", 1)[1] for s in expand_inputs(["1"])[0]]
    assert first == second
    # code point order (locale-independent), with the rotated pair regrouped oldest first
    assert first == ["10.log", "9.log", "B.log", "_x.log", "a.log.1", "a.log", "b.log", "é.log"]


def test_names_found_under_dot_have_no_dot_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path, {"x.log": T, "sub/y.log": T})
    monkeypatch.chdir(tmp_path)
    assert [s.name for s in expand_inputs(["."])[0]] == ["sub/y.log", "x.log"]
    assert [s.name for s in expand_inputs(["./"])[0]] == ["sub/y.log", "x.log"]


def test_absolute_folder_gives_absolute_names(tmp_path: Path) -> None:
    build(tmp_path, {"x.log": T})
    sources, _ = expand_inputs([str(tmp_path)])
    assert [s.name for s in sources] == [str(tmp_path / "x.log")]


@pytest.mark.parametrize(
    ("filename", "base", "rank"),
    [
        ("app.log", "app.log", (2, "", 0)),
        ("app.log.1", "app.log", (1, "", -1)),
        ("app.log.10.bz2", "app.log", (1, "", -10)),
        ("app.log.2.gz", "app.log", (1, "", -2)),
        ("app.log-20261120", "app.log", (0, "20261120", 0)),
        ("app.log-20261120.gz", "app.log", (0, "20261120", 0)),
        ("syslog-2026112013", "syslog", (0, "2026112013", 0)),
        ("app.log.2026-11-20", "app.log", (0, "20261120", 0)),
        ("app-2026-11-20.log", "app.log", (0, "20261120", 0)),
        ("my-app.20261120.log.gz", "my-app.log", (0, "20261120", 0)),
        ("app.log-99999999", "app.log-99999999", (2, "", 0)),  # not a date: live file
        ("nginx-1.22-error.log", "nginx-1.22-error.log", (2, "", 0)),
        ("catalina.out", "catalina.out", (2, "", 0)),
    ],
)
def test_rotation_key(filename: str, base: str, rank: tuple[int, str, int]) -> None:
    assert rotation_key(filename) == (base, rank)


def test_total_size(tmp_path: Path) -> None:
    a = Source("a", tmp_path / "a", None, 10)
    b = Source("b", tmp_path / "b", None, 5)
    assert total_size([a, b]) == 15
    assert total_size([]) == 0
    assert total_size([a, Source("<stdin>", None)]) is None
    assert total_size([a, Source("c.gz", tmp_path / "c.gz", "gz", 3)]) is None


# --------------------------------------------------------------------------------------------
# read_lines: table-driven
# --------------------------------------------------------------------------------------------

READ_CASES = [
    pytest.param(b"a\nb\nc\n", [(1, "a"), (2, "b"), (3, "c")], id="lf"),
    pytest.param(b"a\r\nb\r\nc\r\n", [(1, "a"), (2, "b"), (3, "c")], id="crlf"),
    pytest.param(b"a\r\nb\nc", [(1, "a"), (2, "b"), (3, "c")], id="mixed-no-final-newline"),
    pytest.param(b"only", [(1, "only")], id="single-line-no-newline"),
    pytest.param(b"\n\n", [(1, ""), (2, "")], id="empty-lines"),
    pytest.param(b"a\rb\n", [(1, "a\rb")], id="lone-cr-is-data"),
    pytest.param(b"a\r\r\n", [(1, "a\r")], id="only-one-cr-stripped"),
    pytest.param(b"", [], id="empty"),
    pytest.param("héllo ✓ 😀\n".encode(), [(1, "héllo ✓ 😀")], id="utf8"),
    pytest.param(b"\xef\xbb\xbfbom\n", [(1, "\ufeffbom")], id="bom-kept-for-parsers"),
    pytest.param(gz(b"a\nb\n"), [(1, "a"), (2, "b")], id="gz"),
    pytest.param(gz(b"a\n") + gz(b"b\n") + gz(b"c"), [(1, "a"), (2, "b"), (3, "c")], id="gz-multi"),
    pytest.param(gz(b"a\nb") + gz(b"c\n"), [(1, "a"), (2, "bc")], id="gz-multi-line-spans"),
    pytest.param(gz(b"a\n") + b"\x00" * 100, [(1, "a")], id="gz-zero-padding"),
    pytest.param(gz(b""), [], id="gz-empty"),
    pytest.param(bz(b"a\r\nb\n"), [(1, "a"), (2, "b")], id="bz2"),
    pytest.param(bz(b"a\n") + bz(b"b\n"), [(1, "a"), (2, "b")], id="bz2-multi-stream"),
]


@pytest.mark.parametrize(("data", "expected"), READ_CASES)
def test_read_lines_file(tmp_path: Path, data: bytes, expected: list[tuple[int, str]]) -> None:
    path = tmp_path / "input"  # no suffix: compression comes from magic bytes only
    path.write_bytes(data)
    lines, stats = read_all(Source("input", path))
    assert lines == expected
    assert stats.lines == len(expected)
    assert stats.error is None
    assert not stats.truncated
    assert stats.invalid_utf8_lines == stats.cut_lines == 0


@pytest.mark.parametrize(("data", "expected"), READ_CASES)
def test_read_lines_stdin(data: bytes, expected: list[tuple[int, str]]) -> None:
    lines, stats = read_all(Source("<stdin>", None), stdin=io.BytesIO(data))
    assert lines == expected
    assert stats.error is None


def test_bytes_counted_uncompressed(tmp_path: Path) -> None:
    payload = b"hello world\n" * 1000
    path = tmp_path / "x.gz"
    path.write_bytes(gz(payload))
    _, stats = read_all(Source("x.gz", path, "gz"))
    assert stats.bytes == len(payload)
    assert stats.lines == 1000


class Trickle(io.RawIOBase):
    """A pipe-like stream returning at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    read1 = read


@pytest.mark.parametrize("step", [1, 2, 3, 7, 4096])
def test_small_reads_like_a_pipe(step: int) -> None:
    data = b"ab\r\ncd\n\xc3\xa9\xc3\xa9\r\n" * 50 + b"tail"
    lines, stats = read_all(Source("<stdin>", None), stdin=Trickle(data, step))
    assert lines[:3] == [(1, "ab"), (2, "cd"), (3, "éé")]
    assert lines[-1] == (151, "tail")
    assert stats.lines == 151
    assert stats.bytes == len(data)
    assert stats.invalid_utf8_lines == 0


def test_line_numbers_across_many_chunks(tmp_path: Path) -> None:
    # Lines of varying length crossing the 256 KiB read boundaries many times.
    body = [("x" * (i % 997)) + f" #{i}" for i in range(5000)]
    data = ("\r\n".join(body) + "\n").encode()
    for name, content in (("plain", data), ("zipped", gz(data)), ("bzipped", bz(data))):
        path = tmp_path / name
        path.write_bytes(content)
        lines, stats = read_all(Source(name, path))
        assert lines == list(enumerate(body, 1)), name
        assert stats.bytes == len(data)


def test_stats_are_final_when_the_iterator_ends(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b"a\nb\nc")
    stats = ReadStats()
    it = read_lines(Source("x.log", path), stats)
    assert next(it) == (1, "a")
    assert list(it) == [(2, "b"), (3, "c")]
    assert (stats.lines, stats.bytes) == (3, 5)


def test_max_line_bytes_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        list(read_lines(Source("x", tmp_path / "x"), ReadStats(), max_line_bytes=0))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_explicit_fifo_is_read_like_stdin(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sources, skips = expand_inputs([str(fifo)])
    assert skips == []
    assert sources == [Source(str(fifo), fifo, None, None)]

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(gz(b"from a pipe\n"))

    thread = threading.Thread(target=writer)
    thread.start()
    lines, stats = read_all(sources[0])
    thread.join(5)
    assert lines == [(1, "from a pipe")]
    assert stats.error is None


# --------------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------------


def test_progress_disabled_off_terminal_and_when_quiet() -> None:
    buf = io.StringIO()  # not a terminal
    with ReadProgress(100, stream=buf) as p:
        p.set_source("a.log")
        p.advance(10**9)
        p.sync(10**9)
    assert not p.enabled
    assert p.completed == 0
    assert buf.getvalue() == ""
    with ReadProgress(100, enabled=True, quiet=True, stream=buf) as q:
        q.advance(10**9)
    assert not q.enabled
    assert buf.getvalue() == ""


def test_progress_throttles_and_counts_bytes() -> None:
    buf = io.StringIO()
    with ReadProgress(1_000_000, enabled=True, stream=buf, step_bytes=1000) as p:
        p.set_source("logs/a.log")
        for _ in range(10):
            p.advance(99)
        assert p.completed == 0  # below the step: nothing handed to rich yet
        p.advance(10)
        assert p.completed == 1000
        p.advance(5)
    assert p.completed == 1005  # flushed on exit
    assert p.enabled


def test_progress_sync_per_source_and_indeterminate_total() -> None:
    buf = io.StringIO()
    with ReadProgress(None, enabled=True, stream=buf, step_bytes=100) as p:
        p.set_source("a")
        for n in range(0, 1001, 10):
            p.sync(n)
        assert p.completed == 1000
        p.set_source("b")  # new source: its byte count starts again at 0
        p.sync(250)
        assert p.completed == 1250
