"""Templates: what the logs were made of, with counts, new templates and a burst chart."""

from __future__ import annotations

import streamlit as st

from aiops_copilot.dashboard import data, ui
from aiops_copilot.store.template_counts import UnknownTemplate


def main() -> None:
    st.title("Templates")
    store = ui.store()
    left, right = st.columns([3, 1])
    search = left.text_input("Search", key="t_search", placeholder="words of the template or id")
    new_only = right.checkbox("New in the latest run only", key="t_new")
    rows = data.template_rows(store, search=search, new_only=new_only)
    st.caption(f"{len(rows)} template(s), most records first")
    event = ui.table(rows, on_select="rerun", selection_mode="single-row", key="template_table")
    if not rows:
        return
    chosen = rows[0]["id"]
    if event is not None and event.selection.rows:
        chosen = rows[event.selection.rows[0]]["id"]
    ids = [row["id"] for row in rows]
    chosen = st.selectbox("Burst chart of", ids, index=ids.index(chosen), key="t_chosen")
    row = rows[ids.index(chosen)]
    st.subheader("Burst chart")
    st.code(row["template"], language=None)
    try:
        points, width = data.series_rows(store, chosen)
    except UnknownTemplate as exc:
        ui.stop(str(exc))
    if points:
        st.caption(f"records per {width} minute(s), log time")
        ui.bars(points, "time", "records")
    else:
        st.caption("Its records had no timestamps: no chart.")


main()
