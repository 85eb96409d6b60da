"""The real ``aiops`` program, run as a user would, including on bad input."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from conftest import CliResult
from loghub_samples import load_labelled

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def assert_clean_failure(result: CliResult) -> None:
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout


def test_analyze_examples_json(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", "--json", "--fail-on", "never", str(EXAMPLES))
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    formats = {Path(s["source"]).name: s["format"] for s in summary["sources"]}
    assert formats["access.log"] == "access_combined"
    assert formats["error.log"] == "nginx_error"
    assert formats["postgresql-15-main.log"] == "postgresql"
    assert formats["auth.log"] == "syslog_rfc3164"
    assert formats["checkout.log"] == "python_logging"
    # Rotated set read oldest first.
    names = [Path(s["source"]).name for s in summary["sources"]]
    assert names.index("access.log.2.gz") < names.index("access.log.1") < names.index("access.log")
    assert summary["totals"]["templates"] < summary["totals"]["records"] / 20
    assert summary["levels"]["ERROR"] > 0


def test_tracebacks_fold_into_records(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", "--json", str(EXAMPLES / "app" / "checkout.log"))
    source = json.loads(result.stdout)["summary"]["sources"][0]
    assert source["lines"] > source["records"]


def test_templates_jsonl_content_only_in_input_order(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = load_labelled("HDFS")
    stdin = ("\n".join(data.contents) + "\n").encode()
    result = run_cli("templates", "--jsonl", "--content-only", stdin=stdin)
    assert result.code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(data.contents)
    assert all(set(r) == {"template", "template_id"} for r in rows)
    assert all("<IP>" not in r["template"] for r in rows)  # placeholders written <*>
    by_truth: dict[str, set[str]] = {}
    for row, truth in zip(rows, data.templates, strict=True):
        by_truth.setdefault(truth, set()).add(row["template_id"])
    assert sum(len(ids) == 1 for ids in by_truth.values()) >= len(by_truth) - 1


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_templates_output_formats(run_cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("templates", "--format", fmt, "--top", "3", str(EXAMPLES / "nginx"))
    assert result.code == 0, result.stderr
    if fmt == "json":
        rows = json.loads(result.stdout)
        assert len(rows) == 3 and rows[0]["count"] >= rows[1]["count"]
        assert rows[0]["first_seen"] is not None
    elif fmt == "csv":
        assert result.stdout.splitlines()[0].startswith("template_id,count,first_seen")
    else:
        assert "templates from" in result.stdout


def test_state_is_saved_and_reused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    first = run_cli("templates", "--format", "json", "--state", str(state), str(EXAMPLES / "nginx"))
    assert first.code == 0 and state.exists()
    second = run_cli(
        "templates", "--format", "json", "--state", str(state), str(EXAMPLES / "nginx")
    )
    a = {r["template_id"]: r["count"] for r in json.loads(first.stdout)}
    b = {r["template_id"]: r["count"] for r in json.loads(second.stdout)}
    assert set(a) == set(b) and all(b[k] == 2 * a[k] for k in a)


def test_config_show_reports_origins(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "aiops.toml").write_text("[miner]\nsimilarity = 0.7\n")
    result = run_cli("config", "show", "--json", env={"AIOPS_INGEST__SAMPLE_LINES": "42"})
    settings = json.loads(result.stdout)["settings"]
    assert settings["miner.similarity"] == {"value": 0.7, "origin": f"file {tmp_path}/aiops.toml"}
    assert settings["ingest.sample_lines"] == {"value": 42, "origin": "environment"}
    assert settings["ingest.max_line_bytes"]["origin"] == "default"


def test_malformed_config_is_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "aiops.toml").write_text("[miner\nsimilarity = \n")
    result = run_cli("analyze", str(EXAMPLES))
    assert result.code == 2
    assert result.stderr.startswith("aiops: error: ") and result.stderr.count("\n") == 1
    assert_clean_failure(result)


def test_bad_inputs_mixed_with_good(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "binary.log").write_bytes(os.urandom(4096) + b"\x00" * 64)
    (tmp_path / "latin1.log").write_bytes(b"2024-01-01 10:00:00 ERROR caf\xe9 broke\nok line\n")
    (tmp_path / "huge.log").write_bytes(b"x" * (10 * 1024 * 1024) + b"\nafter the long line\n")
    whole = gzip.compress(
        b"".join(b"Nov 20 10:00:%02d host app[1]: line %d\n" % (i % 60, i) for i in range(5000))
    )
    (tmp_path / "cut.log.gz").write_bytes(whole[: len(whole) // 2])
    result = run_cli("analyze", "--json", str(tmp_path), str(tmp_path / "missing.log"))
    assert result.code == 0, result.stderr
    assert_clean_failure(result)
    summary = json.loads(result.stdout)["summary"]
    by_name = {Path(s["source"]).name: s for s in summary["sources"]}
    skipped = {Path(s["target"]).name: s["reason"] for s in summary["skipped"]}
    assert "binary" in skipped["binary.log"]
    assert "no such file" in skipped["missing.log"]
    assert by_name["empty.log"]["records"] == 0
    assert by_name["latin1.log"]["invalid_utf8_lines"] == 1
    assert by_name["latin1.log"]["lines"] == 2
    assert by_name["huge.log"]["cut_lines"] == 1 and by_name["huge.log"]["lines"] == 2
    assert by_name["cut.log.gz"]["truncated"] is True
    assert 0 < by_name["cut.log.gz"]["lines"] < 5000


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "/no/such/file.log"],
        ["templates", "/no/such/dir/"],
        ["analyze", "--log-format", "klingon", "x.log"],
        ["analyze", "--format", "klingon", "x.log"],
        ["analyze", "--fail-on", "sometimes", "x.log"],
    ],
)
def test_nothing_to_read_is_a_one_line_error(run_cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args)
    assert result.code == 2
    assert result.stderr.strip().splitlines()[-1].startswith("aiops: error: ")
    assert_clean_failure(result)


def test_folder_with_no_logs(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "pics"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    result = run_cli("analyze", str(folder))
    assert result.code == 2
    assert "aiops: error: nothing to read" in result.stderr
    assert_clean_failure(result)


def test_table_shows_brackets_literally(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(
            f"Dec 10 07:07:{i:02d} LabSZ sshd[24206]: Received disconnect from 10.0.0.{i}: 11: "
            "Bye Bye [preauth]\n"
            for i in range(10)
        )
    )
    result = run_cli("templates", str(log), env={"COLUMNS": "200"})
    assert "Bye Bye [preauth]" in result.stdout


def test_access_log_statuses_are_separate_templates(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("templates", "--format", "json", str(EXAMPLES / "nginx" / "access.log"))
    templates = [row["template"] for row in json.loads(result.stdout)]
    assert any(t.endswith("status=502") for t in templates)
    assert any(t.endswith("status=200") for t in templates)
    assert not any("status=<*>" in t for t in templates)


def _run_with_terminal_stderr(args: list[str], cwd: Path) -> tuple[int, str, bytes]:
    """Run aiops with stderr on a real pseudo-terminal (stdout stays a pipe)."""
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(
        {
            "HOME": str(cwd),
            "XDG_CONFIG_HOME": str(cwd / ".config"),
            "XDG_DATA_HOME": str(cwd / ".local" / "share"),
            "TERM": "xterm",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiops_copilot", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not data:
            break
        chunks.append(data)
    stdout = proc.stdout.read() if proc.stdout else b""
    code = proc.wait(timeout=120)
    os.close(leader)
    return code, stdout.decode(), b"".join(chunks)


def test_progress_bar_only_on_a_terminal(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "big.log"
    log.write_text("".join(f"2024-01-01 10:00:00 INFO app: event {i}\n" for i in range(300_000)))
    code, stdout, tty_bytes = _run_with_terminal_stderr(["analyze", "--json", str(log)], tmp_path)
    assert code == 0
    assert json.loads(stdout)["summary"]["totals"]["records"] == 300_000
    assert b"big.log" in tty_bytes and b"\x1b[" in tty_bytes  # a live, redrawn bar
    piped = run_cli("analyze", "--json", str(log))
    assert piped.stderr == ""
    quiet_code, _, quiet_bytes = _run_with_terminal_stderr(
        ["-q", "analyze", "--json", str(log)], tmp_path
    )
    assert quiet_code == 0 and b"big.log" not in quiet_bytes
