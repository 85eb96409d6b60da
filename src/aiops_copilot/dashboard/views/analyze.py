"""Analyze a file: upload logs, run the same analysis as ``aiops analyze``, optionally store."""

from __future__ import annotations

import streamlit as st

from aiops_copilot.dashboard import data, ui


def main() -> None:
    st.title("Analyze a file")
    st.caption(
        "The file is analysed by aiops analyze itself; plain text, .gz or .bz2 logs of any "
        "format it detects."
    )
    upload = st.file_uploader("Log file", key="upload")
    keep = st.checkbox("Store the run (its incidents join the history)", value=True, key="keep")
    if upload is None:
        return
    if not st.button("Analyze", type="primary", key="run_analysis"):
        return
    where = ui.where()
    with st.spinner(f"Analysing {upload.name} ..."):
        outcome = data.analyze_upload(upload.name, upload.getvalue(), where=where, store=keep)
    if outcome.error or outcome.report is None:
        ui.stop(outcome.error or "the analysis failed")
    totals = outcome.report.get("summary", {}).get("totals", {})
    rows = data.report_rows(outcome.report)
    st.success(
        f"{len(rows)} incident(s) in {totals.get('records', 0):,} records "
        f"({totals.get('templates', 0):,} templates)"
        + ("; stored" if outcome.stored else "; not stored")
    )
    for warning in outcome.warnings:
        st.warning(warning)
    ui.table(rows)
    for item in outcome.report.get("incidents") or []:
        with st.expander(f"{item.get('severity')} · {item.get('title')}"):
            if item.get("root_cause"):
                st.write(item["root_cause"])
            for number, step in enumerate(item.get("remediation") or [], start=1):
                st.markdown(f"{number}. {step}")
            evidence = item.get("evidence") or []
            if evidence:
                st.code("\n".join(str(line) for line in evidence[:10]), language=None)


main()
