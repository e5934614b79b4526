# `make demo` and `make test` work on a fresh machine: each creates .venv and
# installs what it needs first (again only when pyproject.toml changes).
VENV := .venv
BIN := $(VENV)/bin
BOOTSTRAP_PYTHON := $(shell command -v python3.11 || command -v python3)
INSTALLED := $(VENV)/.installed
INSTALLED_BENCH := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck format simulate bench bench-workday clean

$(INSTALLED): pyproject.toml
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/gateway demo

simulate: $(INSTALLED)
	$(BIN)/gateway simulate

test: $(INSTALLED) lint typecheck
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check gateway tests benchmarks
	$(BIN)/ruff format --check gateway tests benchmarks

# mypy with Strawberry's plugin; strict for gateway/upstreams and gateway/events (pyproject.toml).
typecheck: $(INSTALLED)
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix gateway tests benchmarks
	$(BIN)/ruff format gateway tests benchmarks

# The benchmark harness (benchmarks/): simulators, the gateway and the
# references as processes on 127.0.0.1; tables on stdout, files in benchmarks/results/.
$(INSTALLED_BENCH): pyproject.toml
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(INSTALLED_BENCH)
	$(BIN)/python -m benchmarks

# The workday scenario: 20 readers under Sequence's rate limit, twice 10 minutes
# (event and time lifetimes); benchmarks/results/workday.{json,md,png}.
bench-workday: $(INSTALLED_BENCH)
	$(BIN)/python -m benchmarks workday

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
