# Two commands for a fresh machine with Python 3.11+:
#   make run    start the API, a Celery worker and beat (SQLite + filesystem broker)
#   make test   lint and run the whole test suite
# Both create .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Where links in responses (Link: rel="next", feeds) point: the port `make run` serves on.
PUBLIC_BASE_URL ?= http://localhost:$(PORT)
# Data for the benchmarks (SaudiNewsNet, Zyte): `make bench DATA=/path/to/data`.
DATA ?= ../shared/data
# Every API and worker process writes its metrics here; /metrics adds them up.
METRICS_DIR := instance/prometheus

.PHONY: run test lint openapi openapi-check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi users ensure-admin
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/$(METRICS_DIR) PORT=$(PORT) PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) \
		PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/honcho -f Procfile start

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

openapi: $(STAMP)
	$(BIN)/python -m app.openapi_file write

openapi-check: $(STAMP)
	$(BIN)/python -m app.openapi_file check

# Quick versions of every benchmark in bench/ and one table (docs/benchmarks.md has the full runs).
bench: $(STAMP)
	$(BIN)/python bench/quick.py --data $(DATA)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
