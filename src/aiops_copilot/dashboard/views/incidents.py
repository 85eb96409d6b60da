"""Incidents: the stored incidents with filters; pick one to open its page."""

from __future__ import annotations

import streamlit as st

from aiops_copilot.dashboard import data, ui
from aiops_copilot.store.schema import STATUSES

ANY = "any"


def main() -> None:
    st.title("Incidents")
    store = ui.store()
    columns = st.columns([1, 1, 1, 2])
    status = columns[0].selectbox("Status", [ANY, *STATUSES], key="f_status")
    domain = columns[1].selectbox("Domain", [ANY, *data.DOMAINS, data.UNCLASSIFIED], key="f_domain")
    severity = columns[2].selectbox("Severity", [ANY, *data.SEVERITIES], key="f_severity")
    text = columns[3].text_input("Search", key="f_text", placeholder="id, title or fingerprint")
    wanted = data.IncidentFilter(
        status=None if status == ANY else status,
        domain=None if domain == ANY else domain,
        severity=None if severity == ANY else severity,
        text=text,
    )
    rows = data.incident_rows(store, wanted)
    st.caption(f"{len(rows)} incident(s)")
    event = ui.table(rows, on_select="rerun", selection_mode="single-row", key="incident_table")
    if not rows:
        return
    chosen = None
    if event is not None and event.selection.rows:
        chosen = rows[event.selection.rows[0]]["id"]
    picked = st.selectbox(
        "Open incident",
        [row["id"] for row in rows],
        index=None,
        key="open_incident",
        placeholder="Choose an incident (or select a row above)",
    )
    chosen = chosen or picked
    if chosen:
        st.session_state["incident_id"] = chosen
        st.switch_page("views/incident.py", query_params={"id": chosen})


main()
