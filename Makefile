# Two commands (see README.md):
#   make app    set up .venv and start the Voila app on the example data at http://127.0.0.1:8866
#   make test   set up .venv (with test tools and Chromium) and run unit, notebook and browser tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: app test test-unit test-notebooks test-browser chromium bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cgtkit needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.app-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.app-installed

app: $(VENV)/.app-installed
	$(BIN)/cgtkit-app

chromium:
	@bash scripts/ensure-chromium

test: $(VENV)/.test-installed chromium
	$(BIN)/pytest tests/unit
	$(BIN)/pytest --nbval-lax notebooks
	$(BIN)/pytest tests/e2e

bench: $(VENV)/.test-installed chromium
	$(BIN)/python benchmarks/bench_stats.py
	$(BIN)/python benchmarks/bench_voila.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
