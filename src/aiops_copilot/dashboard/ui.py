"""What every page shares: the store (opened once per process), one-line errors, and a note
that survives the rerun a button causes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import streamlit as st

from aiops_copilot.dashboard import data
from aiops_copilot.store.location import StoreError
from aiops_copilot.store.sql import Store

_FLASH = "aiops_flash"


@st.cache_resource(show_spinner=False)
def _store(where: str | None) -> Store:
    return data.open_store(where)


def where() -> str | None:
    """The store location, or the page stops with one line saying what is wrong."""
    try:
        return data.location()
    except StoreError as exc:
        stop(str(exc))


def store() -> Store:
    """The store every page reads (one engine per dashboard process); a missing or unreachable
    store stops the page with one line instead of a traceback."""
    location = where()
    try:
        return _store(location)
    except StoreError as exc:
        stop(f"{exc}. Analyse some logs first (the Analyze page, or aiops analyze --db ...).")


def stop(message: str) -> NoReturn:
    st.error(message)
    st.stop()


def attempt(action: Callable[[], str]) -> None:
    """Run a write; its message is shown after the rerun, its failure as one line now."""
    try:
        message = action()
    except StoreError as exc:
        st.error(str(exc))
        return
    st.session_state[_FLASH] = message
    st.rerun()


def flash() -> None:
    """The message of the last write, once."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)


#: Severity colours, worst darkest, the same on every chart.
SEVERITY_COLOURS = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#3b82f6",
    "info": "#9ca3af",
}


def bars(
    rows: list[dict[str, Any]],
    x: str,
    y: str,
    *,
    color: str | None = None,
    height: int = 240,
) -> None:
    """A bar chart over text buckets (time labels, runs): bars keep a sensible width whether
    there is one bucket or hundreds, and severities keep their colours."""
    import altair as alt

    buckets = len({str(row[x]) for row in rows}) or 1
    size = max(2, min(48, int(900 / buckets * 0.8)))
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:O", title=x, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
        "y": alt.Y(f"sum({y}):Q", title=y),
        "tooltip": [alt.Tooltip(f"{x}:O"), alt.Tooltip(f"sum({y}):Q", title=y)],
    }
    if color is not None:
        scale = (
            alt.Scale(domain=list(SEVERITY_COLOURS), range=list(SEVERITY_COLOURS.values()))
            if color == "severity"
            else alt.Scale(scheme="tableau10")
        )
        encoding["color"] = alt.Color(f"{color}:N", title=color, scale=scale)
        encoding["tooltip"].insert(1, alt.Tooltip(f"{color}:N"))
    values = [
        {key: row[key] if key == y else str(row[key]) for key in (x, y, color) if key is not None}
        for row in rows
    ]
    chart = alt.Chart({"values": values}).mark_bar(size=size).encode(**encoding)
    st.altair_chart(chart.properties(height=height), width="stretch")


def table(rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    """A read-only table that fills the width; an empty list shows a short note instead."""
    if not rows:
        st.caption("Nothing to show.")
        return None
    return st.dataframe(rows, hide_index=True, width="stretch", **kwargs)
