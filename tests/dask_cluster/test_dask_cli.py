"""``aiops analyze --engine dask`` as a user runs it: a real process, against the shared
cluster's scheduler (``--scheduler``) or a local cluster of its own (``--workers``).

The JSON report has the same shape and the same incidents, template counts and summary as the
default engine; the run is stored like any other; standard input is read in the driver; and
every way it can fail is one ``aiops: error:`` line with exit code 2, quickly.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from dask_cluster.dask_support import EXAMPLES, LOGHUB

QUIET = ["--json", "--fail-on", "never", "--no-memory"]
INPUT = [str(EXAMPLES), str(LOGHUB / "OpenSSH.log"), str(LOGHUB / "HDFS.log")]
SMALL_PARTS = {"AIOPS_DASK__PARTITION_MIB": "0.01"}  # 10 KiB: several files are cut


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _essentials(result: Any) -> dict[str, Any]:
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    return {
        "keys": sorted(report),
        "incident_keys": [sorted(i) for i in report["incidents"]],
        "incidents": [
            (i["id"], i["domain"], i["severity"], i["count"], i["template_ids"])
            for i in report["incidents"]
        ],
        "summary": report["summary"],
    }


def test_dask_json_report_is_the_local_one(run_cli, dask_client: Any) -> None:  # type: ignore[no-untyped-def]
    scheduler = dask_client.scheduler.address
    local = run_cli("analyze", *QUIET, "--no-store", *INPUT)
    dask = run_cli(
        "analyze", *QUIET, "--engine", "dask", "--scheduler", scheduler, *INPUT, env=SMALL_PARTS
    )
    assert _essentials(dask) == _essentials(local)
    assert dask.stderr == ""  # no dask chatter: progress only on a terminal


def test_a_dask_run_is_stored_and_reads_stdin_in_the_driver(run_cli, dask_client: Any) -> None:  # type: ignore[no-untyped-def]
    scheduler = dask_client.scheduler.address
    postgres = (EXAMPLES / "postgres" / "postgresql-15-main.log").read_bytes()
    args = ["--engine", "dask", "--scheduler", scheduler]
    piped = run_cli("analyze", *QUIET, *args, "-", str(EXAMPLES / "app"), stdin=postgres)
    local = run_cli("analyze", *QUIET, "-", str(EXAMPLES / "app"), stdin=postgres)
    assert _essentials(piped)["incidents"] == _essentials(local)["incidents"]
    stored = run_cli("incidents", "list", "--format", "json")
    assert stored.code == 0, stored.stderr
    ids = {i["id"] for i in json.loads(piped.stdout)["incidents"]}
    assert ids and ids <= {row["id"] for row in json.loads(stored.stdout)}


def test_a_local_cluster_of_its_own(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "-v", "analyze", *QUIET, "--no-store", "--engine", "dask", "--workers", "1",
        str(EXAMPLES / "postgres"),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["incidents"][0]["domain"] == "database"
    assert "dask: 1 partitions of 1 sources on 1 workers" in result.stderr
    assert "lines/s" in result.stderr  # the per-worker throughput line


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(run_cli) -> None:  # type: ignore[no-untyped-def]
    dead = f"tcp://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = run_cli(
        "analyze", *QUIET, "--engine", "dask", "--scheduler", dead, str(EXAMPLES),
        env={"AIOPS_DASK__CONNECT_TIMEOUT": "2"},
    )  # fmt: skip
    assert time.monotonic() - started < 60  # a generous bound: the point is "no hang"
    assert result.code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"aiops: error: cannot reach the Dask scheduler at {dead} within 2 s")
    assert result.stdout == ""


def test_without_the_extra_it_names_the_extra(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A distributed that cannot be imported, first on the path: what a missing package raises.
    broken = tmp_path / "no-dask" / "distributed"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'distributed'\", name='distributed')\n",
        encoding="utf-8",
    )
    result = run_cli(
        "analyze", *QUIET, "--engine", "dask", str(EXAMPLES),
        env={"PYTHONPATH": str(broken.parent)},
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr == (
        "aiops: error: --engine dask needs the dask extra (distributed is not installed): "
        "pip install 'aiops-copilot[dask]'\n"
    )


def test_engine_values_are_checked_and_combine(run_cli) -> None:  # type: ignore[no-untyped-def]
    small = str(EXAMPLES / "postgres")
    cases = {
        ("--engine", "spark"): "--engine must be one of builtin, crewai, local, dask, not 'spark'",
        ("--engine", "dask", "--engine", "local"): "--engine dask and --engine local contradict",
        ("--workers", "2"): "--scheduler and --workers need --engine dask",
        ("--engine", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"): (
            "--scheduler uses a running cluster and --workers starts one"
        ),
    }
    for args, message in cases.items():
        result = run_cli("analyze", *QUIET, *args, small)
        assert result.code == 2, args
        [line] = result.stderr.splitlines()
        assert line.startswith(f"aiops: error: {message}"), line
    # Both kinds at once: the executor is dask and the model engine crewai, which then asks
    # for a model before anything is read.
    both = run_cli("analyze", *QUIET, "--engine", "dask", "--engine", "crewai", small)
    assert both.code == 2 and "--engine crewai needs a model" in both.stderr
