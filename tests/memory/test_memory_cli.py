"""Memory through the real CLI: `kb add`, `kb search`, and `analyze` citing and remembering."""

from __future__ import annotations

import json
from pathlib import Path

from aiops_copilot.memory.vectors import VectorMemory

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "tests" / "data" / "retrieval" / "runbooks"
MARIADB = ROOT / "tests" / "evals" / "database" / "mariadb-too-many-connections-leaking-consumer"
POSTGRES = ROOT / "tests" / "evals" / "database" / "postgres-connection-leak-slots-exhausted"


def default_folder(home: Path) -> Path:
    return home / ".local" / "share" / "aiops" / "qdrant"


def test_kb_add_and_search(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = run_cli("kb", "add", str(RUNBOOKS / "postgres.md"), str(RUNBOOKS / "redis.md"))
    assert added.code == 0, added.stderr
    assert "2 file(s)" in added.stdout and default_folder(tmp_path).is_dir()
    again = run_cli("kb", "add", str(RUNBOOKS / "postgres.md"))  # replaces, never duplicates
    assert again.code == 0
    found = run_cli("kb", "search", "remaining connection slots are reserved", "--json")
    assert found.code == 0, found.stderr
    rows = json.loads(found.stdout)
    assert len(rows) == 5
    assert rows[0]["title"].endswith("Connection slots exhausted")
    assert rows[0]["source"].endswith("postgres.md") and rows[0]["kind"] == "runbook"
    titles = [r["title"] for r in rows]
    assert len(titles) == len(set(titles))
    kb_only = run_cli("kb", "search", "Kafka consumer group rebalance", "--top", "2", "--json")
    assert any(r["kind"] == "kb" for r in json.loads(kb_only.stdout))  # shipped KB searchable
    text = run_cli("kb", "search", "MISCONF bgsave permission denied", "--top", "1", "--team-only")
    assert text.code == 0 and "MISCONF" in text.stdout and "redis.md" in text.stdout


def test_kb_add_reports_bad_input_in_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_text("just a string\n")
    result = run_cli("kb", "add", str(tmp_path / "nope.md"), str(tmp_path / "bad.yaml"))
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "nope.md: no such file or folder" in result.stderr
    assert "bad.yaml" in result.stderr


def test_kb_add_honours_db_location(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("kb", "add", str(RUNBOOKS / "mysql.md"), "--db", str(tmp_path / "x" / "a.db"))
    assert result.code == 0, result.stderr
    assert (tmp_path / "x" / "qdrant").is_dir()


def test_analyze_cites_runbooks_and_remembers(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("kb", "add", str(RUNBOOKS)).code == 0
    first = run_cli("analyze", "--json", "--no-store", str(MARIADB / "logs"))
    assert first.code in (0, 1), first.stderr
    incident = json.loads(first.stdout)["incidents"][0]
    assert incident["runbooks"][0]["source"].endswith("mysql.md")
    assert 0 < incident["runbooks"][0]["score"] <= 1
    assert incident["similar"] == []
    second = run_cli("analyze", "--json", "--no-store", str(POSTGRES / "logs"))
    similar = json.loads(second.stdout)["incidents"][0]["similar"]
    assert incident["fingerprint"] in [s["fingerprint"] for s in similar]
    markdown = run_cli("analyze", "-f", "markdown", "--no-store", str(POSTGRES / "logs"))
    assert "### Runbooks" in markdown.stdout and "### Similar past incidents" in markdown.stdout
    html = run_cli("analyze", "-f", "html", "--no-store", str(POSTGRES / "logs"))
    assert "<h3>Runbooks</h3>" in html.stdout


def test_no_memory_flag_changes_nothing_else(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", "--json", "--no-store", "--no-memory", str(MARIADB / "logs"))
    assert result.code in (0, 1), result.stderr
    assert result.stderr == ""
    incident = json.loads(result.stdout)["incidents"][0]
    assert incident["runbooks"] == [] and incident["similar"] == []
    assert not default_folder(tmp_path).exists()


def test_locked_folder_gives_one_warning_and_the_same_report(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = run_cli("analyze", "--json", "--no-store", "--no-memory", str(MARIADB / "logs"))
    with VectorMemory.open(path=default_folder(tmp_path)):
        locked = run_cli("analyze", "--json", "--no-store", str(MARIADB / "logs"))
        search = run_cli("kb", "search", "disk full")
    assert locked.code == plain.code
    lines = locked.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use by another aiops process" in lines[0]
    assert "running without memory" in lines[0] and "Traceback" not in locked.stderr
    before, after = json.loads(plain.stdout)["incidents"], json.loads(locked.stdout)["incidents"]
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    assert [i["root_cause"] for i in after] == [i["root_cause"] for i in before]
    assert search.code == 2 and search.stderr.startswith("aiops: error: ")
    assert "Traceback" not in search.stderr


def test_unreachable_server_gives_one_warning(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "analyze",
        "--json",
        "--no-store",
        str(MARIADB / "logs"),
        env={"AIOPS_QDRANT_URL": "http://127.0.0.1:9", "AIOPS_MEMORY__TIMEOUT": "2"},
    )
    assert result.code in (0, 1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not reachable" in lines[0]
    assert json.loads(result.stdout)["incidents"]


def test_a_resolution_note_reaches_the_next_similar_incident(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "aiops.db")
    first = run_cli("analyze", "--json", "--db", db, str(MARIADB / "logs"))
    incident = json.loads(first.stdout)["incidents"][0]
    resolved = run_cli(
        "incidents", "resolve", incident["id"], "--note", "closed the leaking consumer", "--db", db
    )
    assert resolved.code == 0, resolved.stderr
    # The same --db: memory lives beside the database it belongs to.
    second = run_cli("analyze", "--json", "--db", db, str(POSTGRES / "logs"))
    similar = json.loads(second.stdout)["incidents"][0]["similar"]
    match = next(s for s in similar if s["fingerprint"] == incident["fingerprint"])
    assert match["resolution"] == "closed the leaking consumer"


def test_pruned_incidents_leave_memory_too(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "aiops.db")
    first = run_cli("analyze", "--json", "--db", db, str(MARIADB / "logs"))
    fingerprint = json.loads(first.stdout)["incidents"][0]["fingerprint"]
    pruned = run_cli("db", "prune", "--older-than", "2099-01-01", "--db", db)
    assert pruned.code == 0, pruned.stderr
    second = run_cli("analyze", "--json", "--db", db, str(POSTGRES / "logs"))
    similar = json.loads(second.stdout)["incidents"][0]["similar"]
    assert fingerprint not in [s["fingerprint"] for s in similar]
