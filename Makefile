# ddb2aurora — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The hashicorp/aws provider: a filesystem mirror when one is found (offline machines),
# otherwise the registry. Override with TF_PLUGIN_DIR=... or TF_PLUGIN_DIR= to use the registry.
TF_PLUGIN_DIR ?= $(shell find / -maxdepth 3 -name tf-plugins -type d 2>/dev/null | head -1)
export TF_PLUGIN_DIR
export TF_IN_AUTOMATION := 1

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## create .venv with the project and its dev tools

.PHONY: build
build: venv ## build dist/<function>.zip for the three Lambda functions (reproducible)
	$(PY) scripts/build_zips.py

.PHONY: fmt
fmt: venv ## format Python and Terraform in place
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .
	terraform fmt -recursive terraform

.PHONY: lint-py
lint-py: venv ## ruff (lint + format check) and mypy on functions/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: unit
unit: venv ## unit tests (pure core and handlers; no servers)
	$(PY) -m pytest tests/unit -q

.PHONY: integration
integration: venv ## tests against a real MariaDB started for the session
	$(PY) -m pytest tests/integration -q -m "not localstack and not long" --durations=10

.PHONY: localstack-test
localstack-test: build ## end to end on a throwaway local stack (apply, data through, compare, destroy)
	$(PY) -m pytest tests/integration -q -m "localstack and not long" --durations=25

.PHONY: long-test
long-test: build ## the long tests (50,000-item backfill on the local stack); not part of make test
	$(PY) -m pytest tests/integration -q -m long

.PHONY: soak
soak: build ## long, not in CI: SOAK_CHANGES (1,000,000) changes on a private local stack; verify exits 0, memory of every process sampled, ours bounded
	$(PY) -m scripts.local.soak

.PHONY: aws-test
aws-test: build ## opt-in real-account stage (DDB2AURORA_AWS_TEST=1 + AWS_PROFILE; refuses in CI)
	$(PY) scripts/aws_stage.py

# ---- Terraform: static checks and plan-level tests, offline with the provider mirror.
# Directories are discovered: the root stack, every module and every example (each holds *.tf).
TF_DIRS = $(shell find terraform -name .terraform -prune -o -name tests -prune -o -name '*.tf' -printf '%h\n' | sort -u)
TF_TEST_DIRS = $(shell find terraform -name .terraform -prune -o -path '*/tests/*.tftest.hcl' -printf '%h\n' | sed 's|/tests$$||' | sort -u)
TF_INIT_FLAGS = -backend=false -input=false -no-color $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))

.PHONY: tf-init
tf-init: ## terraform init (no backend) once in the root stack, every module and example
	@for dir in $(TF_DIRS); do \
	  out=$$(terraform -chdir=$$dir init $(TF_INIT_FLAGS) 2>&1) || { echo "$$out"; echo "terraform init failed in $$dir"; exit 1; }; \
	done; echo "terraform init: $(words $(TF_DIRS)) directories"

.PHONY: tf-fmt-check
tf-fmt-check: ## terraform fmt -check over terraform/
	terraform fmt -check -recursive terraform

.PHONY: tf-validate
tf-validate: tf-init ## terraform validate in the root stack, every module and example
	@for dir in $(TF_DIRS); do \
	  echo "validate $$dir"; terraform -chdir=$$dir validate -no-color >/dev/null || { terraform -chdir=$$dir validate -no-color; exit 1; }; \
	done

.PHONY: tf-docs
tf-docs: venv ## rewrite the input/output tables in the Terraform READMEs
	$(PY) scripts/tf_docs.py

.PHONY: tf-docs-check
tf-docs-check: venv ## fail when a module README's input/output tables are out of date
	$(PY) scripts/tf_docs.py --check

.PHONY: checkov
checkov: venv ## checkov over terraform/ (config and reasoned skips in .checkov.yaml)
	LOG_LEVEL=ERROR $(VENV)/bin/checkov --config-file .checkov.yaml

.PHONY: tflint
tflint: ## tflint in every Terraform directory (.tflint.hcl), when tflint is installed
	@if command -v tflint >/dev/null 2>&1; then \
	  tflint --init --config=$(CURDIR)/.tflint.hcl && tflint --chdir=terraform --recursive --config=$(CURDIR)/.tflint.hcl; \
	else echo "tflint not installed: skipped"; fi

.PHONY: lint
lint: lint-py tf-fmt-check tf-validate tf-docs-check checkov tflint ## every static check: Python and Terraform

.PHONY: tf-test
tf-test: tf-init ## terraform test (mock provider, plan level) in every directory with tests/, two at a time
	@mkdir -p build/tf-test
	@printf '%s\n' $(TF_TEST_DIRS) | xargs -P 2 -I{} sh -c \
	  'log=build/tf-test/$$(echo {} | tr / _).log; \
	   if terraform -chdir={} test -no-color >$$log 2>&1; then echo "== terraform test {}: passed"; cat $$log; \
	   else echo "== terraform test {}: FAILED"; cat $$log; exit 1; fi'

.PHONY: test
test: lint unit tf-test ## everything CI runs; the two integration suites side by side (the local stack waits on Terraform and on its faults, which leaves a core free)
	@mkdir -p build
	@$(MAKE) --no-print-directory integration >build/integration.log 2>&1 & integration=$$!; \
	  $(MAKE) --no-print-directory localstack-test; localstack=$$?; \
	  wait $$integration; alongside=$$?; \
	  echo "== make integration (ran alongside make localstack-test): $$( [ $$alongside -eq 0 ] && echo passed || echo FAILED )"; \
	  cat build/integration.log; \
	  [ $$localstack -eq 0 ] && [ $$alongside -eq 0 ]

# ---- the local stack (moto + MariaDB + Terraform + the local data plane); state in $(STATE_DIR)
STATE_DIR ?= .local

.PHONY: up
up: build ## start the local stack (moto, MariaDB, terraform apply, data plane); prints .local/stack.json
	$(PY) -m scripts.local.stack up --state-dir $(STATE_DIR)

.PHONY: down
down: venv ## stop the local stack, terraform destroy, remove .local/
	$(PY) -m scripts.local.stack down --state-dir $(STATE_DIR)

.PHONY: status
status: venv ## show what of the local stack is running
	$(PY) -m scripts.local.stack status --state-dir $(STATE_DIR)

.PHONY: demo
demo: up ## the local demo: 10,000 sample page views in, updates and deletes, drain, summary table
	$(PY) -m scripts.local.demo --state-dir $(STATE_DIR) $(if $(ITEMS),--items $(ITEMS))

.PHONY: drain
drain: venv ## process everything pending on the local stack; non-zero with the reason when stuck
	$(PY) -m scripts.local.dataplane --state-dir $(STATE_DIR) drain

# ---- benchmarks (not part of make test): ratios vs targets, writes docs/performance.md + docs/cost.md
.PHONY: bench
bench: build ## benchmarks: transform, loader, stream processor, end to end on a private local stack; ratios vs targets; writes docs/performance.md, docs/cost.md (BENCH_SCALE=0.1: quick; BENCH_ONLY=e2e: some sections)
	$(PY) -m scripts.bench $(if $(BENCH_ONLY),--only $(BENCH_ONLY))
