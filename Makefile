# Two commands on a fresh machine: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
ARGS ?=

.PHONY: demo test bench services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

## Simulate 30 days of a store through the engine, print the summary, serve the app.
demo: $(STAMP)
	$(BIN)/storeops demo $(ARGS)

## Lint, type-check and run every test tier (SQLite and PostgreSQL).
test: $(DEV_STAMP) services browser
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q $(ARGS)

## Start the local PostgreSQL cluster when one is installed but not running.
services:
	@bash scripts/ensure-postgres.sh

## Debian's chromium for the browser tests (Playwright drives it; it downloads no browser).
browser:
	@bash scripts/ensure-chromium.sh

bench: $(DEV_STAMP) services
	$(BIN)/python -m bench.engine $(ARGS)

clean:
	rm -rf $(VENV) storeops.db storeops.db-wal storeops.db-shm storeops-outbox .pytest_cache .mypy_cache .ruff_cache
