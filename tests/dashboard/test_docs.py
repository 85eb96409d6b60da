"""The README and docs/dashboard.md show every page's screenshot (the browser test takes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("overview", "incidents", "incident", "templates", "analyze")


@pytest.mark.parametrize("page", PAGES)
def test_every_screenshot_is_shown_and_committed(page: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    assert f"docs/images/dashboard-{page}.png" in readme
    assert f"images/dashboard-{page}.png" in guide
    assert (ROOT / "docs" / "images" / f"dashboard-{page}.png").is_file()
