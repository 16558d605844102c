# The two commands of the README: `make run` and `make test`. Both set up the venv they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup browser lint typecheck suite unit-fast integration e2e bench client clean

# `make run` installs what running needs (the core, the API, the local runtime); everything
# else (the tests, the linters, the CDK) installs with the first target that needs it.
$(VENV)/.run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run

setup: $(VENV)/.dev

run: $(VENV)/.run
	$(BIN)/jobsched local

# The dashboard's browser tests drive the system's Chromium (Debian's `chromium` package), never
# one Playwright downloads. Installed with apt where missing; elsewhere, say what to do.
CHROMIUM ?= $(or $(JOBSCHED_CHROMIUM),/usr/bin/chromium)
browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the dashboard's browser tests"; \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
		sudo apt-get install -y -q chromium; \
	else \
		echo "The browser tests need Chromium: install it (Debian/Ubuntu: apt-get install chromium)" \
			"or set JOBSCHED_CHROMIUM to a Chromium or Chrome binary." >&2; exit 1; \
	fi; \
	[ -x "$(CHROMIUM)" ] || { echo "no Chromium at $(CHROMIUM) after installing" >&2; exit 1; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=container $(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy

# Every tier (tests/unit, integration, e2e, infra, container), spread over the machine's cores.
suite: setup browser
	$(BIN)/pytest -n auto

# The unit tier alone (no moto, no network, no subprocess): seconds, for the edit-test loop.
unit-fast: setup
	$(BIN)/pytest tests/unit -q

integration: setup
	$(BIN)/pytest -n auto tests/integration

e2e: setup browser
	$(BIN)/pytest -n auto tests/e2e

test: lint typecheck suite

bench: setup
	$(BIN)/python -m bench

# The sync client is generated from the async one; a unit test fails while it is out of date.
client: setup
	$(BIN)/python -m tests.support.unasync_client

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
