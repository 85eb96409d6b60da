"""One incident: timeline, diagnosis, hypotheses, evidence, similar past incidents, history,
and the feedback buttons (the same writes as ``aiops feedback`` and ``incidents resolve``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from aiops_copilot.dashboard import data, ui
from aiops_copilot.store.sql import Store, UnknownIncident

NOT_SURE = "(keep the domain)"


def _chosen(store: Store) -> str | None:
    """The incident in the URL (``?id=``), else the last one opened, else a choice."""
    recent = [item.id for item in store.incidents(limit=200)]
    current = st.query_params.get("id") or st.session_state.get("incident_id")
    if current and current not in recent:
        recent.insert(0, current)
    picked = st.selectbox(
        "Incident",
        recent,
        index=recent.index(current) if current in recent else None,
        placeholder="Choose an incident",
    )
    if picked and picked != st.query_params.get("id"):
        st.query_params["id"] = picked
    st.session_state["incident_id"] = picked
    return picked


def main() -> None:
    store = ui.store()
    ui.flash()
    key = _chosen(store)
    if not key:
        st.title("Incident")
        st.info("No incident chosen: open one from the Incidents page.")
        return
    try:
        page = data.incident_page(store, key)
    except UnknownIncident as exc:
        ui.stop(str(exc))
    item = page.detail.incident
    st.title(item.title)
    st.caption(
        f"{item.id} · {item.severity} · {item.domain or data.UNCLASSIFIED} · {item.status} · "
        f"seen {item.times_seen} time(s), last {item.last_seen_at:%Y-%m-%d %H:%M} UTC"
    )
    if item.resolution_note:
        st.info(f"Resolved: {item.resolution_note}")
    _timeline(page)
    _diagnosis(page.latest)
    st.subheader("Hypotheses")
    ui.table(page.hypotheses)
    st.subheader("Evidence")
    ui.table(page.evidence, column_config={"line": st.column_config.TextColumn(width="large")})
    st.subheader("Similar past incidents")
    ui.table(page.similar)
    st.subheader("History")
    ui.table(page.occurrences)
    if page.feedback:
        st.subheader("Feedback given")
        ui.table(page.feedback)
    _feedback(store, item.id)


def _timeline(page: data.IncidentPage) -> None:
    st.subheader("Timeline")
    if page.timeline:
        ui.bars(page.timeline, "minute", "records", height=200)
    elif len(page.occurrences) > 1:
        ui.bars(page.occurrences, "analysed (UTC)", "records", height=200)
    else:
        st.caption("The logs had no timestamps: no timeline.")


def _diagnosis(latest: dict[str, Any]) -> None:
    st.subheader("Diagnosis")
    if not latest.get("root_cause"):
        st.caption("No fixer diagnosed this incident.")
        return
    agent = latest.get("agent") or "?"
    st.markdown(f"**Root cause** ({agent}, confidence {float(latest.get('confidence', 0)):.0%})")
    st.write(latest["root_cause"])
    steps = latest.get("remediation") or []
    if steps:
        st.markdown("**Remediation**")
        st.markdown("\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1)))
    commands = latest.get("commands") or []
    if commands:
        st.markdown("**Commands**")
        st.code("\n".join(str(c) for c in commands), language="bash")


def _feedback(store: Store, key: str) -> None:
    st.subheader("Feedback")
    where = ui.where()
    right, wrong, resolve = st.columns(3)
    with right:
        st.markdown("The diagnosis was right")
        note = st.text_input("Note", key="fb_correct_note")
        if st.button("Correct", key="fb_correct", type="primary"):
            ui.attempt(lambda: data.mark_correct(store, key, note))
    with wrong:
        st.markdown("The diagnosis was wrong")
        domain = st.selectbox("Right domain", [NOT_SURE, *data.DOMAINS], key="fb_domain")
        why = st.text_input("Why", key="fb_wrong_note")
        if st.button("Wrong", key="fb_wrong"):
            chosen = None if domain == NOT_SURE else domain
            ui.attempt(lambda: data.mark_wrong(store, key, chosen, why))
    with resolve:
        st.markdown("It is fixed")
        fix = st.text_input("What fixed it", key="fb_resolve_note")
        if st.button("Resolve", key="fb_resolve"):
            ui.attempt(lambda: data.resolve(store, key, fix, where))


main()
