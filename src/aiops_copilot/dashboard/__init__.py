"""The Streamlit dashboard (``aiops dashboard``): overview, incidents, one incident with
feedback, templates, and analysing an uploaded file, all over the same store as the CLI and
the API.

``cli.py`` starts Streamlit on ``app.py``; ``data.py`` is every read and write, free of
Streamlit; ``ui.py`` holds what the pages share; ``views/`` one script per page. Streamlit is
the ``dashboard`` extra and is imported only by the app itself, never by ``aiops`` at start-up.
"""
