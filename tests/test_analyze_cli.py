"""``aiops analyze`` as a user and a CI job run it: incidents, report formats, exit codes."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CliResult

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EVALS = Path(__file__).resolve().parent / "evals"


def _clean(result: CliResult) -> None:
    # stdout may quote the analysed logs' own tracebacks as evidence; ours would be on stderr.
    assert "Traceback" not in result.stderr


def test_text_report_names_the_incidents_and_exits_1(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", str(EXAMPLES))
    _clean(result)
    assert result.code == 1  # a high-severity incident was found (default --fail-on high)
    assert "incidents:" in result.stdout.splitlines()[0] or "incident" in result.stdout
    assert "PostgreSQL" in result.stdout and "database" in result.stdout


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("never", 0), ("critical", 0), ("high", 1), ("medium", 1), ("info", 1)],
)
def test_fail_on_threshold(run_cli, fail_on: str, code: int) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", "--json", "--fail-on", fail_on, str(EXAMPLES))
    severities = {i["severity"] for i in json.loads(result.stdout)["incidents"]}
    assert "critical" not in severities and "high" in severities
    assert result.code == code


def test_json_contract(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", "--format", "json", "--fail-on", "never", str(EXAMPLES))
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == 1
    first = report["incidents"][0]
    required = {
        "id", "domain", "severity", "title", "root_cause", "remediation", "evidence",
        "confidence", "agent", "hypotheses", "signals", "count", "first_seen", "last_seen",
        "services", "sources",
    }  # fmt: skip
    assert required <= set(first)
    assert first["domain"] == "database" and first["agent"] == "database-fixer"
    assert "max_connections" in first["root_cause"] or "connection" in first["root_cause"]
    assert 0 <= first["confidence"] <= 1
    assert first["evidence"] and all(isinstance(line, str) for line in first["evidence"])
    assert first["remediation"] and first["hypotheses"][0]["status"] in {
        "supported",
        "possible",
        "ruled_out",
    }
    # The nginx upstream errors are linked to the database problem that caused them.
    linked = [i for i in report["incidents"] if i.get("caused_by") == first["id"]]
    assert linked
    ranks = ["critical", "high", "medium", "low", "info"]
    order = [ranks.index(i["severity"]) for i in report["incidents"]]
    assert order == sorted(order)


def test_markdown_to_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "reports" / "incident.md"
    result = run_cli(
        "analyze", "--format", "markdown", "--output", str(out), "--fail-on", "never",
        str(EXAMPLES / "postgres"), str(EXAMPLES / "app"),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert "report written to" in result.stderr
    text = out.read_text()
    assert text.startswith("# ") and "```" in text and "Root cause" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_is_one_self_contained_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    result = run_cli("analyze", "-f", "html", "-o", str(out), "--fail-on", "never", str(EXAMPLES))
    assert result.code == 0, result.stderr
    parser = _Tags()
    parser.feed(out.read_text())
    assert "svg" in parser.tags  # a timeline chart per incident
    assert "script" not in parser.tags and "link" not in parser.tags


def test_clean_logs_exit_0_and_say_so(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", str(EVALS / "clean" / "nginx-normal-traffic" / "logs"))
    assert result.code == 0, result.stderr
    assert "No incidents found" in result.stdout


def test_baseline_marks_new_templates(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, today = tmp_path / "base.log", tmp_path / "today.log"
    base.write_text(
        "".join(f"2026-11-20 10:{i // 60:02d}:{i % 60:02d},000 INFO worker: job {i} done\n"
                for i in range(300))
    )  # fmt: skip
    lines = [f"2026-11-21 10:{i // 60:02d}:{i % 60:02d},000 INFO worker: job {i} done\n"
             for i in range(300)]  # fmt: skip
    lines.insert(250, "2026-11-21 10:04:10,500 INFO worker: cache shard moved to node-2\n")
    today.write_text("".join(lines))
    result = run_cli("analyze", "--json", "--baseline", str(base), str(today))
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    novel = [o for o in report["observations"] if o["kind"] == "novelty"]
    assert novel and "never in the baseline" in novel[0]["reason"]
    assert report["incidents"] == []  # a new INFO line alone is not an incident


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "pdf"],
        ["--fail-on", "sometimes"],
        ["--window", "-3"],
        ["--baseline", "/no/such/baseline.log"],
    ],
)
def test_usage_errors_exit_2(run_cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("analyze", *args, str(EXAMPLES / "postgres"))
    assert result.code == 2
    assert result.stderr.strip().splitlines()[-1].startswith("aiops: error: ")
    _clean(result)
