"""Overview: incidents by domain and severity over time, open incidents, ingest per run."""

from __future__ import annotations

import streamlit as st

from aiops_copilot.dashboard import data, ui


def main() -> None:
    st.title("Overview")
    store = ui.store()
    st.caption(f"Store: {store.location}")
    axis_label = st.radio(
        "Place incidents at",
        ["log time", "analysis time"],
        horizontal=True,
        help="When the logs said it happened, or when an analysis found it.",
    )
    view = data.overview(store, axis="log" if axis_label == "log time" else "analysed")
    columns = st.columns(4)
    columns[0].metric("Open incidents", view.statuses.get("open", 0))
    columns[1].metric("Recurred", view.statuses.get("recurred", 0))
    columns[2].metric("Resolved", view.statuses.get("resolved", 0))
    columns[3].metric("Records analysed", f"{view.records_total:,}", f"{view.runs_total} runs")

    if not view.over_time:
        st.info("No incidents stored yet.")
    else:
        st.subheader(f"Incidents by domain ({view.bucket}ly)")
        ui.bars(view.over_time, "time", "incidents", color="domain")
        st.subheader(f"Incidents by severity ({view.bucket}ly)")
        ui.bars(view.over_time, "time", "incidents", color="severity")

    left, right = st.columns(2)
    with left:
        st.subheader("Open by domain")
        ui.table([{"domain": k, "incidents": v} for k, v in view.open_by_domain.items()])
    with right:
        st.subheader("Open by severity")
        ui.table([{"severity": k, "incidents": v} for k, v in view.open_by_severity.items()])

    st.subheader("Ingest: records per run")
    if view.ingest:
        ui.bars(view.ingest, "when", "records", height=200)
        ui.table(list(reversed(view.ingest)))
    else:
        st.caption("No runs stored yet.")


main()
