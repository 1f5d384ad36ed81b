# The two commands: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/issim track
	$(BIN)/issim station
	$(BIN)/issim run nominal --days 1

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/orbit.py
	$(BIN)/python bench/speed.py --days 30

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
