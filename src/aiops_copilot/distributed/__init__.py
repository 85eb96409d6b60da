"""The Dask engine: ``aiops analyze --engine dask`` mines the input on a cluster.

The input is cut into partitions (:mod:`plan`, :mod:`cuts`); each worker reads, folds and
tokenizes its partitions and returns their distinct token sequences with per-sequence
statistics (:mod:`task`); the driver absorbs them in input order into the run's one miner and
one statistics collector (:mod:`merge`), which gives the same templates, template ids and
counts as a single-process run, and then runs the single-process detection, grouping and
diagnosis on the merged statistics (:mod:`engine`). :mod:`cluster` connects to a scheduler or
starts a local cluster; :mod:`progress` shows partitions and per-worker throughput.

Dask is an optional extra (``pip install 'aiops-copilot[dask]'``); nothing here imports it
until a run asks for it.
"""
