# The two commands: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# `make run` runs this scenario, stores it in ./runs and writes its report.
SCENARIO ?= iss
RUN_ARGS ?=

# The browser front end: Open MCT from npm (web/package-lock.json), into web/node_modules (never committed).
NPM        ?= npm
WEB_STAMP  := web/node_modules/.installed

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup clean bench chromium web kernels

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The physics kernels compiled ahead of time into issim/_kernels*.so (python -m issim.aot; a run then never
# loads numba's LLVM), again whenever a kernel's source has changed. Without a C compiler runs use numba's JIT.
setup: $(STAMP)
	-@$(BIN)/python -m issim.aot --if-stale

kernels: $(STAMP)
	$(BIN)/python -m issim.aot

$(WEB_STAMP): web/package.json web/package-lock.json
	$(NPM) ci --prefix web --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

web: $(WEB_STAMP)

run: setup web
	$(BIN)/issim track
	$(BIN)/issim station
	$(BIN)/issim run $(SCENARIO) $(RUN_ARGS) --report

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium for the browser test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null; \
	fi

# The whole suite, spread over TEST_JOBS worker processes (pytest-xdist), a test file per worker at a time.
TEST_JOBS ?= 2

test: setup chromium web
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

bench: setup
	$(BIN)/python bench/orbit.py
	$(BIN)/python bench/speed.py --days 30
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/rl.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache web/node_modules src/issim/_kernels* src/issim/.kernels*
