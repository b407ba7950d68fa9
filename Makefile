# The two commands a new machine needs: `make run` and `make test`.
# Only Python 3.11+ and make are assumed; everything else is installed here.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
PG_TEST_URL ?=

.PHONY: install run serve test test-pg lint format demo openapi clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Serve on http://127.0.0.1:$(PORT) with the embedded SQLite database and demo data.
run: install
	APP_ENV=demo $(BIN)/linshi migrate
	APP_ENV=demo $(BIN)/linshi seed --demo
	@$(BIN)/linshi demo-accounts
	@echo "API docs: http://127.0.0.1:$(PORT)/docs"
	APP_ENV=demo $(BIN)/linshi serve --port $(PORT)

## The whole suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	env -u TEST_DATABASE_URL $(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Drive the demo cases against a running `make run` (another shell).
demo: install
	$(BIN)/python -m scripts.demo --base-url http://127.0.0.1:$(PORT)

openapi: install
	$(BIN)/linshi export-openapi

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## The stand-in verification platform (家庭经济状况核对) on http://127.0.0.1:$(STUB_PORT).
.PHONY: stub-platform
STUB_PORT ?= 8001
stub-platform: install
	$(BIN)/python -m app.stubs.verification_platform --port $(STUB_PORT)
