# Outdoor platform — run `make` for this help.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
PY := .venv/bin/python

.DEFAULT_GOAL := help
.PHONY: help deps up soak test test-fast lint fmt bench rollout parity clean containers routes

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

deps: ## install what is missing (Debian packages, uv, Python workspace, FerretDB)
	@./scripts/deps.sh

up: deps ## run the whole stack in the foreground with demo data (Ctrl-C stops it)
	@PYTHONPATH=scripts $(PY) scripts/stack.py

soak: deps ## chaos soak through the gateway (starts the stack if needed): make soak [MINUTES=15] [RATE=10]
	@PYTHONPATH=scripts $(PY) scripts/soak.py $(if $(MINUTES),--minutes "$(MINUTES)",) $(if $(RATE),--rate "$(RATE)",)

test: deps ## lint + types, then every test in parallel against real Redis, FerretDB, Traefik (started and stopped here)
	@./scripts/test.sh

test-fast: ## pure-logic tests only (marker `fast`): no server, no deps step, well under a minute
	@PYTHONPATH=scripts uv run --frozen pytest -m fast -q -p no:xdist

lint: ## ruff lint + format check + mypy (types of libs/shared and both services)
	@uv run --frozen ruff check . && uv run --frozen ruff format --check . && uv run --frozen mypy

containers: deps ## build the images with podman, smoke-test them, run deploy/compose.yaml (podman-compose)
	@./scripts/containers/run.sh

routes: ## regenerate the gateway configs (Traefik, Kubernetes, nginx) from scripts/devstack/routes.py
	@PYTHONPATH=scripts $(PY) -m devstack.routes

fmt: ## format the code
	@uv run ruff format . && uv run ruff check --fix .

bench: deps ## benchmarks (ratios side by side), written to docs/benchmarks.md
	@PYTHONPATH=scripts $(PY) -m bench

rollout: ## show or set the PDF share to pdf-service: make rollout [PDF=0..100] [SHADOW=0..100] [STICKY=on|off]
	@PYTHONPATH=scripts $(PY) -m devstack.rollout $(if $(PDF),--pdf "$(PDF)",) $(if $(SHADOW),--shadow "$(SHADOW)",) $(if $(STICKY),--sticky "$(STICKY)",)

parity: ## compare legacy (core-api) and new (pdf-service) PDFs of a sample: make parity [SAMPLE=20]
	@PYTHONPATH=scripts $(PY) -m devstack.parity $(if $(SAMPLE),--sample "$(SAMPLE)",)

clean: ## remove local data (.data) — the stack must be stopped
	rm -rf .data
