# The two commands of the README: `make run` and `make test`. Both set up their own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint typecheck unit bench clean

$(BIN)/jobsched: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/jobsched

setup: $(BIN)/jobsched

run: setup
	$(BIN)/jobsched local

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=container $(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -n auto

test: lint typecheck unit

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
