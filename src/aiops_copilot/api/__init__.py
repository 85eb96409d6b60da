"""``aiops serve``: the REST API, the log-shipper ingestion endpoints and Prometheus metrics.

Everything here needs the ``serve`` extra (FastAPI, uvicorn, prometheus-client,
python-multipart); nothing outside this package imports it, so ``aiops analyze`` runs without
them. ``app.create_app`` builds the application; ``cli.serve`` runs it under uvicorn.
"""
