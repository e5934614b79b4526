# `make demo` and `make test` work on a fresh machine: each creates .venv and
# installs what it needs first (again only when pyproject.toml changes).
VENV := .venv
BIN := $(VENV)/bin
BOOTSTRAP_PYTHON := $(shell command -v python3.11 || command -v python3)
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint format simulate clean

$(INSTALLED): pyproject.toml
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/gateway demo

simulate: $(INSTALLED)
	$(BIN)/gateway simulate

test: $(INSTALLED) lint
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check gateway tests
	$(BIN)/ruff format --check gateway tests

format: $(INSTALLED)
	$(BIN)/ruff check --fix gateway tests
	$(BIN)/ruff format gateway tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
