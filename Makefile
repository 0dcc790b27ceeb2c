# Make Effects: `make dev` runs the product, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
PACKAGES := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)

.PHONY: setup dev test lint proto bench clean

## setup: create .venv and install every pinned dependency (re-runs only when they change)
setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt $(PACKAGES) scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt pip hatchling
	$(PIP) install -q --no-build-isolation -c constraints.txt -r requirements.txt
	touch $@

## dev: run the whole product on this machine (NATS, every service) until Ctrl-C
dev: setup
	$(VENV)/bin/makefx dev

## test: lint, then every test (unit, integration on real servers)
test: setup lint
	$(PY) -m pytest

## lint: ruff and the import-linter boundaries of CONVENTIONS.md
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## proto: regenerate proto/ (JSON Schema, AsyncAPI, TypeScript) from libs/contracts
proto: setup
	$(PY) -m makefx_protogen proto

## bench: latency and throughput against baselines measured in the same run
bench: setup
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
