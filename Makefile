# Two commands do everything:  `make run`  and  `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

# Build llama.cpp for this CPU with only what the Python bindings load:
# no multimodal library, no "common" utilities, no tools. See docs/benchmarks.md.
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF \
	-DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
	-DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/scripts/llama-cpp-minimal.cmake
export CMAKE_ARGS ?= $(LLAMA_CMAKE_ARGS)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench bench-build print-cmake-args install install-test system-test-deps clean
.PHONY: translations
.PHONY: container-engine

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

# Re-install when the package's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,telemetry]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[local,telemetry,test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install (first time) and start the app on http://localhost:$(PORT)
run: $(VENV)/.installed
	$(BIN)/assistants-ui run --port $(PORT)

## make test: install what tests need, then lint, type-check and run every test
test: $(VENV)/.installed-test system-test-deps interop-test-deps container-engine
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

## make lint: ruff, mypy and the import contracts (the layer table of docs/architecture.md)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

## make bench: the benchmarks in bench/, each printing its table
bench: $(VENV)/.installed-test system-test-deps
	@PYTHON=$(PYTHON) scripts/ensure-bench-peers >/dev/null  # Chainlit, in its own venv
	$(BIN)/python -m bench.stream_render
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.stream_events
	$(BIN)/python -m bench.local_model
	$(BIN)/python -m bench.history
	$(BIN)/python -m bench.branch_tree
	$(BIN)/python -m bench.history_page
	$(BIN)/python -m bench.hostile_text
	$(BIN)/python -m bench.admin_queries
	$(BIN)/python -m bench.telemetry
	$(BIN)/python -m bench.documents

## make bench-build: llama.cpp compile time, default flags vs ours (~6 min)
bench-build: $(VENV)/.installed-test
	$(BIN)/python -m bench.llama_build

## make translations: gather the interface's strings into the catalogs, then list what
## is left to translate (docs/translations.md). The template is a temporary file.
LOCALES := src/assistants_ui/locales
POT := $(VENV)/messages.pot
translations: $(VENV)/.installed-test
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords N_ --no-location \
		--sort-output --project assistants-ui --output-file $(POT) src/assistants_ui
	$(BIN)/pybabel update --input-file $(POT) --output-dir $(LOCALES) --domain messages \
		--ignore-obsolete --previous --width 100
	@# pybabel writes the previous msgid's comment as "# |", gettext as "#|": keep gettext's.
	sed -i 's/^# | /#| /' $(LOCALES)/*/LC_MESSAGES/messages.po
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/test_translations.py

print-cmake-args:
	@echo '$(CMAKE_ARGS)'

# Debian's Chromium for the browser tests (Playwright cannot download its own here),
# PostgreSQL's server binaries for the storage tests (each run starts its own server),
# nginx for the scale-out test (tests/deploy: two app processes behind it),
# and Node.js + npm for the OpenID Provider of the single sign-on browser test.
system-test-deps:
	@scripts/ensure-system-deps chromium postgresql nginx nodejs npm

# Podman (with runc), its configuration where the machine needs one, and the local
# Debian base image the deploy tests build the Dockerfile from (tests/deploy,
# docs/deployment.md "Podman"). Once per machine; later runs only check.
container-engine:
	@scripts/ensure-container-engine

# OGX for tests/interop, in its own Python 3.12 venv under ~/.cache/assistants-ui
# (made once per machine; llama.cpp's server comes with the test extra).
.PHONY: interop-test-deps
interop-test-deps:
	@scripts/ensure-interop-servers >/dev/null

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
