# Make Effects: `make dev` runs the product, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
PACKAGES := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
NPM := npm --prefix frontend --no-audit --no-fund
FRONTEND_STAMP := frontend/node_modules/.installed
FRONTEND_BUILD := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json proto/ts -type f 2>/dev/null)

.PHONY: setup dev test lint proto bench clean frontend

## setup: create .venv and frontend/node_modules with every pinned dependency (re-runs only when they change)
setup: $(STAMP) $(FRONTEND_STAMP)

$(STAMP): requirements.txt constraints.txt $(PACKAGES) scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt pip hatchling
	$(PIP) install -q --no-build-isolation -c constraints.txt -r requirements.txt
	touch $@

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json scripts/setup-system.sh
	bash scripts/setup-system.sh
	$(NPM) ci
	touch $@

## frontend: build the browser app into frontend/dist (the gateway serves it)
frontend: $(FRONTEND_BUILD)

$(FRONTEND_BUILD): $(FRONTEND_STAMP) $(FRONTEND_SOURCES)
	$(NPM) run build

## dev: run the whole product on this machine (NATS, every service) until Ctrl-C
dev: setup frontend
	$(VENV)/bin/makefx dev

## test: lint, then every test (unit, integration on real servers)
test: setup lint frontend
	$(NPM) test
	$(PY) -m pytest

## lint: ruff and the import-linter boundaries of CONVENTIONS.md
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(NPM) run lint

## proto: regenerate proto/ (JSON Schema, AsyncAPI, TypeScript) from libs/contracts
proto: setup
	$(PY) -m makefx_protogen proto

## bench: latency and throughput against baselines measured in the same run
bench: setup
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache frontend/node_modules frontend/dist
