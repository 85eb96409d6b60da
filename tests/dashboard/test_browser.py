"""The dashboard in a real headless Chromium (Debian's, never a downloaded browser), served by
a real ``aiops dashboard`` process: every page is visited, waited for, checked for the text a
person would read, and photographed to ``docs/images/dashboard-<page>.png`` (the README shows
those). Skips, saying why, when Chromium or Playwright is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_copilot.store import Store
from dashboard.conftest import EVALS, RUNS
from dashboard.test_dashboard_cli import free_port, start_dashboard, stop, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1400
#: Milliseconds any one wait may take; the whole test stays well under 90 s.
WAIT_MS = 30_000

if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does in CI)",
        allow_module_level=True,
    )
pytest.importorskip("streamlit", reason="the dashboard extra (streamlit) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture
def dashboard_url(store_copy: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_dashboard(store_copy, port, tmp_path / "home")
    try:
        wait_until_up(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def _settle(page: object) -> None:
    """Wait until Streamlit has finished running the page and drawn its charts."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS
    )
    for chart in page.locator("[data-testid='stVegaLiteChart']").all():  # type: ignore[attr-defined]
        chart.locator("canvas, svg").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(600)  # type: ignore[attr-defined]


def _shoot(page: object, name: str) -> Path:
    """A screenshot of the whole page: the viewport is grown to the content's height first,
    because Streamlit scrolls inside its main section, not the document."""
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => { const b = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return b ? b.getBoundingClientRect().top + b.scrollHeight"
        " : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": WIDTH, "height": max(700, min(int(height) + 40, 3200))})  # type: ignore[attr-defined]
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    _settle(page)
    IMAGES.mkdir(parents=True, exist_ok=True)
    target = IMAGES / f"dashboard-{name}.png"
    page.screenshot(path=str(target))  # type: ignore[attr-defined]
    return target


def _visible(page: object, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=WAIT_MS)  # type: ignore[attr-defined]


def test_every_page_in_chromium(dashboard_url: str, store_copy: Path, tmp_path: Path) -> None:
    with Store(store_copy) as store:
        mysql = next(i for i in store.incidents() if i.title.startswith("MySQL"))
        busiest = store.templates(limit=1)[0]
    upload = tmp_path / "auth.log"
    log = EVALS / "security" / "ssh-bruteforce-then-successful-login" / "logs"
    upload.write_bytes(b"".join(p.read_bytes() for p in sorted(log.iterdir()) if p.is_file()))
    shots: list[Path] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.set_default_timeout(WAIT_MS)

            page.goto(f"{dashboard_url}/")
            _visible(page, "Incidents by domain")
            _settle(page)
            for text in ("Open incidents", "Records analysed", "Ingest: records per run"):
                _visible(page, text)
            assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "5"
            shots.append(_shoot(page, "overview"))

            page.goto(f"{dashboard_url}/incidents")
            _visible(page, "5 incident(s)")
            page.locator("[data-testid='stDataFrame']").first.wait_for()
            _settle(page)
            shots.append(_shoot(page, "incidents"))

            page.goto(f"{dashboard_url}/incident?id={mysql.id}")
            _visible(page, mysql.title)
            for text in ("Root cause", "Remediation", "Hypotheses", "Similar past incidents"):
                _visible(page, text)
            _settle(page)
            shots.append(_shoot(page, "incident"))

            page.goto(f"{dashboard_url}/templates")
            _visible(page, "Burst chart")
            _visible(page, "most records first")
            _settle(page)
            assert busiest.template in page.locator("[data-testid='stCode']").first.inner_text()
            shots.append(_shoot(page, "templates"))

            page.goto(f"{dashboard_url}/analyze")
            _visible(page, "Store the run")
            page.locator("input[type='file']").set_input_files(str(upload))
            page.get_by_role("button", name="Analyze").click()
            _visible(page, "; stored")
            with Store(store_copy) as store:  # the upload was stored: its incidents are shown
                newest = store.runs(limit=1)[0].id
                found = {p.incident_id for p in store.occurrence_points() if p.run_id == newest}
                titles = [i.title for i in store.incidents() if i.id in found]
            assert titles and store.stats().counts["runs"] == len(RUNS) + 1
            for title in titles:
                _visible(page, title)
            _settle(page)
            shots.append(_shoot(page, "analyze"))
        finally:
            browser.close()
    for shot in shots:
        assert shot.stat().st_size > 20_000, shot  # a real picture, not a blank page
