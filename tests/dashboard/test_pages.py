"""Every page through Streamlit's AppTest (the real scripts, run in-process) over a store
filled by real analyses: what each shows, that filters filter, that buttons write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra (streamlit) is not installed")

from streamlit.testing.v1 import AppTest

from aiops_copilot.dashboard import cli as dashboard_cli
from aiops_copilot.store import Store
from dashboard.conftest import EVALS, RUNS

APP = dashboard_cli.APP
TIMEOUT = 60


def _app(page: str | None = None, **query: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.run()
    if page is not None:
        app.switch_page(f"views/{page}.py")
    app.query_params.update(query)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _texts(app: AppTest) -> str:
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info"):
        parts += [str(element.value) for element in getattr(app, kind)]
    return "\n".join(parts)


def _charts(app: AppTest) -> list[Any]:
    return list(app.get("vega_lite_chart"))


def _frame_rows(app: AppTest, index: int = 0) -> list[dict[str, Any]]:
    return app.dataframe[index].value.to_dict("records")  # type: ignore[no-any-return]


def test_overview(dashboard_env: Path) -> None:
    app = _app()
    assert app.title[0].value == "Overview"
    metrics = {m.label: m.value for m in app.metric}
    with Store(dashboard_env) as store:
        incidents = store.incidents()
        records = sum(run.records for run in store.runs())
    assert metrics["Open incidents"] == str(len(incidents))
    assert metrics["Resolved"] == "0"
    assert metrics["Records analysed"] == f"{records:,}"
    assert "Incidents by domain (hourly)" in _texts(app)
    assert len(_charts(app)) == 3  # by domain, by severity, ingest
    domains = {row["domain"]: row["incidents"] for row in _frame_rows(app, 0)}
    assert domains["database"] == sum(1 for i in incidents if i.domain == "database")
    app.radio[0].set_value("analysis time").run()
    assert not app.exception and len(_charts(app)) == 3


def test_incidents_filters(dashboard_env: Path) -> None:
    app = _app("incidents")
    assert app.title[0].value == "Incidents"
    everything = _frame_rows(app)
    assert len(everything) == 5 and {row["domain"] for row in everything} >= {"network"}
    app.selectbox(key="f_domain").set_value("database").run()
    database = _frame_rows(app)
    assert database and all(row["domain"] == "database" for row in database)
    assert len(database) < len(everything)
    app.text_input(key="f_text").set_value("mysql").run()
    assert [row["title"] for row in _frame_rows(app)] == [
        row["title"] for row in database if "MySQL" in row["title"]
    ]
    app.selectbox(key="f_status").set_value("resolved").run()
    assert not app.dataframe and "0 incident(s)" in _texts(app)


def test_choosing_an_incident_opens_its_page(dashboard_env: Path) -> None:
    app = _app("incidents")
    app.selectbox(key="f_severity").set_value("medium").run()
    (row,) = _frame_rows(app)
    app.selectbox(key="open_incident").set_value(row["id"]).run()
    assert not app.exception
    assert app.title[0].value == row["title"]
    assert app.query_params["id"] == row["id"]


def test_incident_page_shows_the_diagnosis(dashboard_env: Path) -> None:
    with Store(dashboard_env) as store:
        item = next(i for i in store.incidents() if i.title.startswith("MySQL"))
        latest = store.incident(item.id).occurrences[0].report
    app = _app("incident", id=item.id)
    assert app.title[0].value == item.title
    text = _texts(app)
    for heading in ("Timeline", "Diagnosis", "Hypotheses", "Evidence", "Similar past incidents"):
        assert heading in text
    assert latest["root_cause"] in text
    assert any("max_connections" in str(c.value) for c in app.code)  # the commands
    assert len(_charts(app)) == 1
    tables = [frame.value for frame in app.dataframe]
    hypotheses, evidence, similar = tables[0], tables[1], tables[2]
    assert list(hypotheses["hypothesis"]) == [h["cause"] for h in latest["hypotheses"]]
    assert len(evidence) == len(latest["evidence_lines"])
    assert any("PostgreSQL" in title for title in similar["title"])
    assert {b.label for b in app.button} >= {"Correct", "Wrong", "Resolve"}


def test_feedback_buttons_write_to_the_store(dashboard_env: Path) -> None:
    with Store(dashboard_env) as store:
        key = next(i.id for i in store.incidents() if i.domain == "network")
    app = _app("incident", id=key)
    app.selectbox(key="fb_domain").set_value("infrastructure")
    app.text_input(key="fb_wrong_note").set_value("the upstream host was down")
    app.button(key="fb_wrong").click().run()
    assert not app.exception
    assert "next time it goes to infrastructure" in _texts(app)
    app.text_input(key="fb_resolve_note").set_value("restarted the upstream")
    app.button(key="fb_resolve").click().run()
    assert "resolved: restarted the upstream" in _texts(app)
    app.button(key="fb_correct").click().run()
    with Store(dashboard_env) as store:
        detail = store.incident(key)
        rules = store.rules()
    assert detail.incident.status == "resolved"
    assert detail.incident.resolution_note == "restarted the upstream"
    assert [(f.kind, f.domain) for f in detail.feedback] == [
        ("domain", "infrastructure"),
        ("correct", None),
    ]
    assert any(r.kind == "domain" and r.value == "infrastructure" for r in rules)
    assert "Feedback given" in _texts(app)


def test_resolving_without_a_note_is_refused(dashboard_env: Path) -> None:
    with Store(dashboard_env) as store:
        key = store.incidents()[0].id
    app = _app("incident", id=key)
    app.button(key="fb_resolve").click().run()
    assert [e.value for e in app.error] == ["say what fixed it: the note is shown when it recurs"]
    with Store(dashboard_env) as store:
        assert store.incident(key).incident.status == "open"


def test_an_unknown_incident_is_one_line(dashboard_env: Path) -> None:
    app = _app("incident", id="INC-nothing")
    assert [e.value for e in app.error] == [
        "no stored incident 'INC-nothing' (aiops incidents list shows them)"
    ]


def test_templates_explorer(dashboard_env: Path) -> None:
    app = _app("templates")
    assert app.title[0].value == "Templates"
    rows = _frame_rows(app)
    with Store(dashboard_env) as store:
        stored = store.templates(limit=200)
    assert [row["id"] for row in rows] == [t.id for t in stored]
    assert rows[0]["records"] == stored[0].total
    assert "Burst chart" in _texts(app) and len(_charts(app)) == 1
    app.text_input(key="t_search").set_value("too many connections").run()
    found = _frame_rows(app)
    assert found and len(found) < len(rows)
    assert all("too many connections" in (r["template"] + r["example"]).lower() for r in found)
    app.selectbox(key="t_chosen").set_value(found[-1]["id"]).run()
    assert not app.exception and found[-1]["template"] in [c.value for c in app.code]
    app.checkbox(key="t_new").check().run()
    assert all(row["new"] for row in _frame_rows(app)) if app.dataframe else True


def test_analyze_an_uploaded_file(dashboard_env: Path) -> None:
    log = EVALS / "security" / "ssh-bruteforce-then-successful-login" / "logs"
    content = b"".join(p.read_bytes() for p in sorted(log.iterdir()) if p.is_file())
    app = _app("analyze")
    assert app.title[0].value == "Analyze a file"
    app.get("file_uploader")[0].set_value(("auth.log", content, "text/plain")).run()  # type: ignore[attr-defined]
    app.button(key="run_analysis").click().run(timeout=180)
    assert not app.exception and not app.error
    message = app.success[0].value
    assert "incident(s) in" in message and message.endswith("; stored")
    rows = _frame_rows(app)
    assert rows and rows[0]["domain"] == "security"
    with Store(dashboard_env) as store:
        assert rows[0]["id"] in {item.id for item in store.incidents()}
        assert store.stats().counts["runs"] == len(RUNS) + 1


def test_a_missing_store_is_one_line(dashboard_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = dashboard_env.parent / "nothing.db"
    monkeypatch.setenv("AIOPS_DB_URL", str(missing))
    app = _app("incidents")
    (error,) = [e.value for e in app.error]
    assert error.startswith(f"no store at {missing}") and "\n" not in error
    assert not missing.exists()


def test_the_report_json_the_page_parses_is_the_cli_contract(dashboard_env: Path) -> None:
    """The upload page reads ``aiops analyze --format json``: the keys it uses exist."""
    with Store(dashboard_env) as store:
        report = store.incident(store.incidents()[0].id).occurrences[0].report
    for key in ("id", "severity", "domain", "count", "confidence", "title", "root_cause"):
        assert key in report, json.dumps(sorted(report))
