"""The store through the real CLI: analyze remembers, incidents list/show/resolve, db stats/prune.

Every run points ``--db`` (or the environment) at a file under the test's tmp folder; the
``run_cli`` fixture also gives each test its own HOME, so the default file is never the
user's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import CliResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _pg_log(path: Path, day: str) -> Path:
    """PostgreSQL refusing connections for twenty minutes of ``day``."""
    lines = []
    for i in range(40):
        lines.append(
            f"{day} 10:{i:02d}:01.112 UTC [{2000 + i}] app@shopdb LOG:  "
            "connection authorized: user=app database=shopdb"
        )
        if i >= 20:
            lines.append(
                f"{day} 10:{i:02d}:02.112 UTC [{3000 + i}] app@shopdb FATAL:  "
                "sorry, too many clients already"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        _pg_log(tmp_path / "day1.log", "2026-11-02"),
        _pg_log(tmp_path / "day2.log", "2026-11-09"),
    )


def _ok(result: CliResult, code: int = 0) -> CliResult:
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _analyze(run_cli, db: str, log: Path, *extra: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = _ok(
        run_cli("analyze", "--format", "json", "--fail-on", "never", "--db", db, *extra, str(log))
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _one_line_error(result: CliResult, text: str) -> None:
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("aiops: error:") and text in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_second_analysis_marks_the_recurrence(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    first = _analyze(run_cli, db, logs[0])
    assert [i["history"] for i in first["incidents"]] == [None]
    second = _analyze(run_cli, db, logs[1])
    (incident,) = second["incidents"]
    assert incident["id"] == first["incidents"][0]["id"]
    history = incident["history"]
    assert history["times_seen"] == 2 and history["status"] == "open"
    assert history["same_logs"] is False and history["last_resolution_note"] is None
    assert re.fullmatch(r"seen 2 times since \d{4}-\d\d-\d\d", history["text"])


def test_the_same_logs_again_are_no_recurrence(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    _analyze(run_cli, db, logs[0])
    again = _analyze(run_cli, db, logs[0])
    history = again["incidents"][0]["history"]
    assert history["same_logs"] is True and history["times_seen"] == 1
    assert history["text"].startswith("stored before from these same logs")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_resolved_then_recurred_in_every_format(run_cli, tmp_path: Path, logs, fmt: str) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    incident_id = _analyze(run_cli, db, logs[0])["incidents"][0]["id"]
    resolved = _ok(
        run_cli(
            "incidents",
            "resolve",
            incident_id[:8],
            "--note",
            "PgBouncer in front of shopdb",
            "--db",
            db,
        )
    )
    assert resolved.stdout.strip() == f"{incident_id} resolved: PgBouncer in front of shopdb"
    report = _ok(
        run_cli("analyze", "--format", fmt, "--fail-on", "never", "--db", db, str(logs[1]))
    )
    text = report.stdout
    if fmt == "json":
        history = json.loads(text)["incidents"][0]["history"]
        assert history["status"] == "recurred"
        assert history["last_resolution_note"] == "PgBouncer in front of shopdb"
        assert history["last_resolved_at"] is not None
        text = history["text"]
    flat = " ".join(text.replace("│", " ").split())
    assert "seen 2 times since" in flat
    assert "last resolved by: PgBouncer in front of shopdb" in flat
    assert "recurred" in flat
    listed = _ok(
        run_cli("incidents", "list", "--status", "recurred", "--format", "json", "--db", db)
    )
    assert [i["id"] for i in json.loads(listed.stdout)] == [incident_id]


def test_list_filters_and_formats(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    _ok(run_cli("analyze", "--fail-on", "never", "--db", db, str(EXAMPLES)))
    _analyze(run_cli, db, logs[0])

    def listed(*args: str) -> list[dict]:  # type: ignore[type-arg]
        result = _ok(run_cli("incidents", "list", "--format", "json", "--db", db, *args))
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    everything = listed()
    domains = {i["domain"] for i in everything}
    assert {"database", "network", "security"} <= domains
    assert all(i["domain"] == "database" for i in listed("--domain", "database"))
    assert len(listed("--domain", "database")) == sum(i["domain"] == "database" for i in everything)
    assert listed("--status", "resolved") == []
    assert len(listed("--since", "1h")) == len(everything)
    assert len(listed("--since", "2020-01-01")) == len(everything)
    assert listed("--since", "2999-01-01") == []
    assert len(listed("--limit", "2")) == 2
    assert set(everything[0]) >= {"id", "status", "times_seen", "last_seen_at", "title"}
    table = _ok(run_cli("incidents", "list", "--db", db))
    assert f"{len(everything)} incident(s)" in table.stdout
    assert all(i["id"] in table.stdout for i in everything)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["incidents", "list", "--since", "yesterday"], "--since: expected a duration"),
        (["incidents", "list", "--status", "closed"], "--status must be one of"),
        (["incidents", "list", "--domain", "dns"], "--domain must be one of"),
        (["incidents", "list", "--format", "csv"], "--format must be one of"),
        (["incidents", "show", "INC-nothing"], "no stored incident 'INC-nothing'"),
        (["incidents", "resolve", "INC-nothing", "--note", "x"], "no stored incident"),
        (["incidents", "resolve", "INC", "--note", "  "], "--note must say what fixed it"),
        (["db", "prune", "--older-than", "soon"], "--older-than: expected a duration"),
    ],
)
def test_usage_errors_are_one_line(
    run_cli, tmp_path: Path, logs, args: list[str], text: str
) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    _analyze(run_cli, db, logs[0])
    _one_line_error(run_cli(*args, "--db", db), text)


def test_reading_a_store_that_does_not_exist(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "typo.db"
    for args in (["incidents", "list"], ["incidents", "show", "X"], ["db", "stats"]):
        _one_line_error(run_cli(*args, "--db", str(missing)), "no store at")
    assert not missing.exists()


def test_show_text_and_json(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    first = _analyze(run_cli, db, logs[0])["incidents"][0]
    _analyze(run_cli, db, logs[1])
    text = _ok(run_cli("incidents", "show", first["id"], "--db", db)).stdout
    assert first["id"] in text and first["title"] in text
    assert "Latest diagnosis" in text and "Root cause:" in text and "Occurrences (2)" in text
    assert "day2.log" in text  # evidence of the latest occurrence
    data = json.loads(
        _ok(
            run_cli("incidents", "show", first["id"].lower(), "--format", "json", "--db", db)
        ).stdout
    )
    assert set(data) == {"incident", "latest", "occurrences", "feedback"}
    assert data["incident"]["times_seen"] == 2 and data["feedback"] == []
    assert [o["log_first_seen"][:10] for o in data["occurrences"]] == ["2026-11-09", "2026-11-02"]
    latest = data["latest"]
    assert latest["fingerprint"] == first["fingerprint"]
    assert latest["root_cause"] and latest["evidence"] and latest["hypotheses"]
    assert latest["sources"] == [str(logs[1])]


def test_db_stats_and_prune(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "h.db")
    _analyze(run_cli, db, logs[0])
    _analyze(run_cli, db, logs[1])
    stats = json.loads(_ok(run_cli("db", "stats", "--format", "json", "--db", db)).stdout)
    assert stats["counts"]["runs"] == 2 and stats["counts"]["incidents"] == 1
    assert stats["counts"]["occurrences"] == 2 and stats["size_bytes"] > 0
    assert stats["backend"] == "sqlite" and stats["location"] == db
    assert stats["oldest_run"] <= stats["newest_run"]
    text = _ok(run_cli("db", "stats", "--db", db)).stdout
    assert f"store: {db} (sqlite, schema 0003" in text and "runs 2" in text
    kept = _ok(run_cli("db", "prune", "--older-than", "30d", "--db", db)).stdout
    assert "0 run(s), 0 occurrence(s), 0 incident(s)" in kept
    gone = json.loads(
        _ok(
            run_cli("db", "prune", "--older-than", "0s", "--vacuum", "--format", "json", "--db", db)
        ).stdout
    )
    assert (gone["runs"], gone["occurrences"], gone["incidents"]) == (2, 2, 1)
    assert gone["vacuumed"] is True
    after = json.loads(_ok(run_cli("db", "stats", "--format", "json", "--db", db)).stdout)
    assert set(after["counts"].values()) == {0}


def test_the_default_store_and_no_store(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    data_home = tmp_path / "xdg-data"
    env = {"XDG_DATA_HOME": str(data_home)}
    default = data_home / "aiops" / "aiops.db"
    off = run_cli(
        "analyze", "--no-store", "--format", "json", "--fail-on", "never", str(logs[0]), env=env
    )
    _ok(off)
    assert json.loads(off.stdout)["incidents"][0]["history"] is None
    assert not default.exists()
    _ok(run_cli("analyze", "--fail-on", "never", str(logs[0]), env=env))
    assert default.is_file()
    # store.enabled = false in the environment turns it off too.
    _ok(
        run_cli(
            "analyze",
            "--fail-on",
            "never",
            str(logs[1]),
            env={**env, "AIOPS_STORE__ENABLED": "false"},
        )
    )
    listed = _ok(run_cli("incidents", "list", "--format", "json", env=env))
    assert json.loads(listed.stdout)[0]["times_seen"] == 1
    _one_line_error(
        run_cli("analyze", "--db", "x.db", "--no-store", str(logs[0])), "contradict each other"
    )


def test_which_location_wins(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    """--db > AIOPS_DB_URL > AIOPS_STORE__URL > store.url in aiops.toml > the default file."""
    (tmp_path / "aiops.toml").write_text('[store]\nurl = "from-file.db"\n', encoding="utf-8")
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    layers = [
        (
            {"AIOPS_DB_URL": "from-env.db", "AIOPS_STORE__URL": "from-store-env.db"},
            ["--db", "from-flag.db"],
            "from-flag.db",
        ),
        (
            {"AIOPS_DB_URL": "from-env.db", "AIOPS_STORE__URL": "from-store-env.db"},
            [],
            "from-env.db",
        ),
        ({"AIOPS_STORE__URL": "from-store-env.db"}, [], "from-store-env.db"),
        ({}, [], "from-file.db"),
    ]
    for extra_env, flags, expected in layers:
        result = run_cli(
            "analyze", "--fail-on", "never", *flags, str(logs[0]), env={**env, **extra_env}
        )
        _ok(result)
        assert (tmp_path / expected).is_file(), expected
        (tmp_path / expected).unlink()
    shown = run_cli("config", "show", "--json", env={**env, "AIOPS_DB_URL": "e.db"})
    setting = json.loads(shown.stdout)["settings"]["store.url"]
    assert setting == {"value": "e.db", "origin": "environment"}
    (tmp_path / "aiops.toml").unlink()
    _ok(run_cli("analyze", "--fail-on", "never", str(logs[0]), env=env))
    assert (tmp_path / "xdg" / "aiops" / "aiops.db").is_file()


def test_a_store_failure_is_a_warning_and_the_report_still_prints(
    run_cli, tmp_path: Path, logs
) -> None:  # type: ignore[no-untyped-def]
    not_a_file = tmp_path / "folder"
    not_a_file.mkdir()
    for db in (str(not_a_file), "postgresql+psycopg://nobody@127.0.0.1:1/none", "mysql://x/y"):
        result = run_cli("analyze", "--format", "json", "--db", db, str(logs[0]))
        assert result.code == 1  # the high-severity incident, as without a store
        report = json.loads(result.stdout)
        assert report["incidents"] and report["incidents"][0]["history"] is None
        assert result.stderr.startswith("aiops: warning: not stored:"), result.stderr
        assert result.stderr.count("\n") == 1
    quiet = run_cli("-q", "analyze", "--format", "json", "--db", str(not_a_file), str(logs[0]))
    assert quiet.stderr == "" and json.loads(quiet.stdout)["incidents"]


def test_verbose_analyze_says_what_it_stored(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "h.db"
    result = _ok(run_cli("-v", "analyze", "--fail-on", "never", "--db", str(db), str(logs[0])))
    assert f"stored run 1 in {db}: 1 incident(s), 0 seen before" in result.stderr


def test_postgresql_by_url(run_cli, pg_url: str, logs) -> None:  # type: ignore[no-untyped-def]
    first = _analyze(run_cli, pg_url, logs[0])
    second = _analyze(run_cli, pg_url, logs[1])
    assert first["incidents"][0]["history"] is None
    assert second["incidents"][0]["history"]["times_seen"] == 2
    listed = json.loads(
        _ok(run_cli("incidents", "list", "--format", "json", "--db", pg_url)).stdout
    )
    assert [i["times_seen"] for i in listed] == [2]
    stats = json.loads(_ok(run_cli("db", "stats", "--format", "json", "--db", pg_url)).stdout)
    assert stats["backend"] == "postgresql" and stats["counts"]["runs"] == 2


def test_a_locked_store_waits_then_warns(run_cli, tmp_path: Path, logs) -> None:  # type: ignore[no-untyped-def]
    """Another writer holding the lock past store.timeout: a warning, the report, no hang."""
    import sqlite3

    db = tmp_path / "h.db"
    _analyze(run_cli, str(db), logs[0])
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {"AIOPS_STORE__TIMEOUT": "1"}
        result = run_cli("analyze", "--format", "json", "--db", str(db), str(logs[1]), env=env)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 1 and json.loads(result.stdout)["incidents"]
    assert result.stderr == f"aiops: warning: not stored: {db}: database is locked\n"
