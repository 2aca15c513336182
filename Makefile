# Outdoor platform — run `make` for this help.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
PY := .venv/bin/python

.DEFAULT_GOAL := help
.PHONY: help deps up test test-fast lint fmt bench rollout parity clean containers routes

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

deps: ## install what is missing (Debian packages, uv, Python workspace, FerretDB)
	@./scripts/deps.sh

up: deps ## run the whole stack in the foreground with demo data (Ctrl-C stops it)
	@PYTHONPATH=scripts $(PY) scripts/stack.py

test: deps ## run every test against real Redis, FerretDB, Traefik (started and stopped here)
	@./scripts/test.sh

containers: deps ## build the images with podman, smoke-test them, run deploy/compose.yaml (podman-compose)
	@./scripts/containers/run.sh

routes: ## regenerate the gateway configs (Traefik, Kubernetes, nginx) from scripts/devstack/routes.py
	@PYTHONPATH=scripts $(PY) -m devstack.routes

lint: ## ruff lint + format check
	@uv run ruff check . && uv run ruff format --check .

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
