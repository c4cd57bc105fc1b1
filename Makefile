# Two commands matter: `make dev` (run the demo locally) and `make test` (set up and run every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The venv's Python: the newest 3.13, 3.12 or 3.11 that runs (Lambda's runtime is 3.13), pyenv's
# too when it is installed but not the active version; else python3. PYTHON=... overrides.
ifndef PYTHON
PYTHON := $(shell for v in 3.13 3.12 3.11; do \
	for p in "$$(PYENV_VERSION=$$(pyenv latest $$v 2>/dev/null) pyenv which python$$v 2>/dev/null)" \
		"$$(command -v python$$v)"; do [ -n "$$p" ] && "$$p" -c '' 2>/dev/null && { echo "$$p"; exit; }; \
	done; done; command -v python3)
endif
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
ENV ?= staging

.PHONY: help install browser dev stack test unit integration lint fuzz api-fuzz bench bootstrap deploy destroy checkov clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `make dev` installs only what the local run needs, quickly (no pip upgrade; modules are compiled
# when first imported); `make install`, and so `make test`, installs everything.
$(BIN)/.installed-local: requirements-local.txt functions/common/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -r requirements-local.txt
	touch $@

$(BIN)/.installed: requirements-dev.txt requirements-local.txt functions/common/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(BIN)/.installed-local

install: $(BIN)/.installed ## create .venv and install the pinned Python packages

browser: $(BIN)/.installed ## find or install Chromium/Chrome (CHROMIUM=... to choose), npm packages of the browser tests
	@$(BIN)/python -m localdev.chromium --ensure
	@test -d tests/e2e/node_modules/@daily-co/daily-js || npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error

PORT ?= 3000
dev: $(BIN)/.installed-local ## run the demo locally, offline (PORT=3000, NO_KEY=1, VERBOSE=1; DAILY_API_KEY=… for real Daily)
	$(BIN)/python -m localdev --port $(PORT) $(if $(NO_KEY),--no-key) $(if $(VERBOSE),--verbose)

stack: install ## moto + Daily emulator for `sam local invoke` (writes events/env.local.json; see README)
	$(BIN)/python -m localdev.stack

lint: install ## ruff, cfn-lint, sam validate --lint and checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml bootstrap/template.yaml
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/sam validate --lint --template bootstrap/template.yaml
	PYTHON=$(PYTHON) scripts/checkov.sh

checkov: ## checkov on both templates from its own venv .venv-tools/ (made on first use)
	PYTHON=$(PYTHON) scripts/checkov.sh

# pytest in two worker processes (pytest-xdist), as many as a 2-core CI runner has.
test: install browser lint ## set up and run every test (unit, integration, template, browser)
	$(BIN)/python -m pytest -n 2

unit: install ## fast subset: shared package, Daily emulator (conformance, sam local env), template
	$(BIN)/python -m pytest tests/unit tests/localdev tests/template

integration: install ## fast subset: the handlers and deploy.py against moto and the emulator
	$(BIN)/python -m pytest tests/integration tests/deploy

fuzz: install ## the property-based tests with 10,000 examples
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests -m fuzz

api-fuzz: install ## schemathesis against `python -m localdev` from docs/openapi.yaml, 2,000 examples per route
	API_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest tests/contract/test_fuzz.py

bench: install ## calls, cold start, memory and the visitor's wait of a create (benchmark/README.md)
	$(BIN)/python -m benchmark

# Once per environment, before its first deploy, with administrator credentials. GITHUB=owner/repo
# lets that repository's GitHub environment ENV assume the role; NO_GITHUB=1 trusts the account
# again; neither keeps the trust the stack has (the account's, on a first run).
bootstrap: install ## the deploy role, its boundary and bucket: make bootstrap ENV=staging [GITHUB=owner/repo]
	$(BIN)/python scripts/bootstrap.py --env $(ENV) $(if $(GITHUB),--github $(GITHUB)) $(if $(NO_GITHUB),--no-github)

# PARAMS="Key=Value ..." adds template parameters to samconfig.toml's; DRY_RUN=1 prints the plan.
DEPLOY_FLAGS = $(if $(PARAMS),--parameter-overrides '$(PARAMS)') $(if $(DRY_RUN),--dry-run)
deploy: install ## build, deploy and publish the site: make deploy ENV=staging (PARAMS=…, DRY_RUN=1)
	$(BIN)/python scripts/deploy.py --env $(ENV) $(DEPLOY_FLAGS)

destroy: install ## empty the site bucket, delete the stack, say what is left: make destroy ENV=staging
	$(BIN)/python scripts/deploy.py --env $(ENV) --destroy $(if $(DRY_RUN),--dry-run)

clean: ## remove the virtualenvs, build output and caches
	rm -rf $(VENV) .venv-tools .aws-sam artifacts .pytest_cache .ruff_cache tests/e2e/node_modules
