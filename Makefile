# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
STAMP_RUN := $(VENV)/.installed

.PHONY: demo test lint bench bench-accuracy bench-throughput bench-pipeline bench-hdfs bench-bgl bench-store bench-ingest bench-dask bench-consume test-crewai clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/aiops analyze --fail-on never examples/
	$(BIN)/aiops templates examples/ --top 15

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The CrewAI engine (--engine crewai) in its own venv: crewai pins pydantic<2.13 and rich<15,
# which must not leak into the dev venv every other test runs in. .ci/run runs it after `test`.
CREW_VENV := .venv-crewai
$(CREW_VENV)/.installed: pyproject.toml
	test -x $(CREW_VENV)/bin/python || $(PYTHON) -m venv $(CREW_VENV)
	$(CREW_VENV)/bin/python -m pip install --quiet -e '.[crewai]' 'pytest>=8' 'pytest-timeout>=2.3'
	touch $@

test-crewai: $(CREW_VENV)/.installed
	$(CREW_VENV)/bin/pytest -p no:cacheprovider tests/crew

bench: bench-accuracy bench-throughput bench-pipeline bench-hdfs bench-bgl bench-store bench-ingest bench-dask bench-consume

bench-accuracy: $(STAMP)
	$(BIN)/python bench/loghub_accuracy.py --write docs/benchmarks.md

bench-bgl: $(STAMP)
	$(BIN)/python bench/bgl_alerts.py --write docs/benchmarks.md

bench-hdfs: $(STAMP)
	$(BIN)/python bench/hdfs_sessions.py --write docs/benchmarks.md

bench-throughput: $(STAMP)
	$(BIN)/python bench/throughput.py --write docs/benchmarks.md

clean:
	rm -rf $(VENV) $(CREW_VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

bench-pipeline: $(STAMP)
	$(BIN)/python bench/pipeline.py --write docs/benchmarks.md

bench-store: $(STAMP)
	$(BIN)/python bench/store_speed.py --write docs/benchmarks.md

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest_load.py --protocol all --write docs/benchmarks.md

bench-dask: $(STAMP)
	$(BIN)/python bench/dask_engine.py --write docs/benchmarks.md

# Needs Redis and nats-server (with JetStream) on 127.0.0.1; a broker not there is skipped.
bench-consume: $(STAMP)
	$(BIN)/python bench/consume_load.py --write docs/benchmarks.md
