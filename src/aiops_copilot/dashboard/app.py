"""The dashboard's entry point: ``streamlit run app.py`` (``aiops dashboard`` does that).

Pages are scripts in ``views/`` registered with ``st.navigation`` (not in ``pages/``, which
Streamlit would list a second time on its own); each reads the store through ``data.py``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
PAGES = [
    st.Page(HERE / "views" / "overview.py", title="Overview", url_path="overview", default=True),
    st.Page(HERE / "views" / "incidents.py", title="Incidents", url_path="incidents"),
    st.Page(HERE / "views" / "incident.py", title="Incident", url_path="incident"),
    st.Page(HERE / "views" / "templates.py", title="Templates", url_path="templates"),
    st.Page(HERE / "views" / "analyze.py", title="Analyze a file", url_path="analyze"),
]

st.set_page_config(page_title="AI Ops Copilot", layout="wide")
st.navigation(PAGES).run()
