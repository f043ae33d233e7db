# Orderflow - developer and CI entry points.  `make help` lists them.
#
# Two virtualenvs, on purpose:
#   .venv      the project (editable, extras [dev]): moto, pytest, ruff, cfn-lint, ...  (python3, 3.11+)
#   .venv-sam  aws-sam-cli only: it pins its own boto3, which conflicts with moto's     (python3.12,
#              the template's runtime, which `sam build` also needs on PATH)
# Each has a stamp file inside it, so `make <target>` is quick when nothing changed; deleting the
# venv deletes its stamp.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# One shell per recipe, so recipes can use if/else blocks and variables across lines.
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON      ?= python3
PYTHON312   ?=
PORT        ?= 3000
PYTEST_ARGS ?=
SAM_VERSION ?= 1.170.0
CHECKOV_VERSION ?= 3.3.30
# Largest unzipped size of one function plus its layers (AWS's hard limit is 250 MB).
MAX_FUNCTION_MB ?= 230
# `make deploy`: the samconfig.toml environment ([default.deploy.parameters], [prod.deploy.parameters]);
# GUIDED=1 asks every question again (sam deploy --guided) and saves the answers there.
CONFIG_ENV ?= default
GUIDED     ?=
CONSOLE_PUBLISH_ARGS ?=

VENV      := .venv
VENV_SAM  := .venv-sam
VENV_CHECKOV := .venv-checkov
VENV_AUTOETS := .venv-autoets
PY        := $(VENV)/bin/python
SAM       := $(VENV_SAM)/bin/sam
SETUP_STAMP := $(VENV)/.stamp-setup
SAM_STAMP   := $(VENV_SAM)/.stamp-aws-sam-cli-$(SAM_VERSION)
CHECKOV_STAMP := $(VENV_CHECKOV)/.stamp-checkov-$(CHECKOV_VERSION)
AUTOETS_STAMP := $(VENV_AUTOETS)/.stamp-autoets
TEMPLATE  := template.yaml
REGION    := us-east-1

PIP_QUIET := --quiet --disable-pip-version-check --no-input
# Some machines' pip config lists extra local indexes that hold only a few packages; pip then warns
# once per package. Drop that noise (and nothing else: errors and other warnings still show).
PIP_NOISE := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# sam must never ask questions, phone home, or look for real credentials: lint runs offline with
# dummy credentials (nothing it does talks to AWS) and a fixed region.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$(REGION) AWS_REGION=$(REGION) AWS_EC2_METADATA_DISABLED=true
# (used as `env $(SAM_LINT_ENV) ...`)
SAM_LINT_ENV := -u AWS_PROFILE -u AWS_DEFAULT_PROFILE $(SAM_ENV) \
                AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
                AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

.PHONY: help setup sam-setup checkov-setup autoets-setup console chromium screenshots lint test demo up build openapi deploy bench bench-forecast soak clean

help:
	@echo "Orderflow make targets:"
	@echo "  setup      create $(VENV) ($(PYTHON), override with PYTHON=...) and pip install -e '.[dev]'"
	@echo "  sam-setup  create $(VENV_SAM) (Python 3.12) with aws-sam-cli==$(SAM_VERSION)"
	@echo "  console    npm ci and build the operations console (console/ -> console/dist, docs/console.md)"
	@echo "  chromium   install Debian's chromium for the browser tests (apt-get; skipped, with a message, if it cannot)"
	@echo "  screenshots  run the browser tests and keep their pictures of the console in docs/console/"
	@echo "  lint       ruff, import contracts, cfn-lint, sam validate --lint, ASL checks (scripts/check_asl.py), checkov (.checkov.yaml)"
	@echo "  test       lint, build (so the Lambda size test runs on the real artefacts), then pytest"
	@echo "             (PYTEST_ARGS='...' passes arguments through)"
	@echo "  demo       run the offline demo (python -m orderflow_cli.demo): orders, fulfilment, returns, replenishment,"
	@echo "             purchasing, alerts and KPIs over HTTP, each checked; stops the stack it started"
	@echo "  up         run the offline stack on 127.0.0.1:\$$PORT (default $(PORT))"
	@echo "  openapi    merge every HTTP function's OpenAPI into functions/order_intake/openapi.json (docs/api.md)"
	@echo "  build      openapi, then sam build with Python 3.12 (layers trimmed, docs/build.md), size gate ($(MAX_FUNCTION_MB) MB), layer import check"
	@echo "  deploy     lint and build, then sam deploy with samconfig.toml (CONFIG_ENV=$(CONFIG_ENV)); guided when that environment"
	@echo "             has no deploy section or GUIDED=1, then uploads the console (scripts/publish_console.py)."
	@echo "             Needs an AWS account and credentials"
	@echo "  bench      run benchmarks (python -m benchmarks, under 10 min) and rewrite BENCHMARKS.md;"
	@echo "             package sizes need 'make build' first (bench does not build)"
	@echo "  bench-forecast  the forecast accuracy benchmarks against statsforecast's AutoETS"
	@echo "             (python -m benchmarks.forecasting_global, ~4 min; rewrites benchmarks/FORECASTING_GLOBAL.md"
	@echo "             and BENCHMARKS.md §10); creates $(VENV_AUTOETS) (statsforecast, benchmarks only) first"
	@echo "  soak       the full reliability runs (tests/reliability with ORDERFLOW_SOAK=1: 1,000 racing orders,"
	@echo "             longer fuzzing and property runs); prints the figures and rewrites RELIABILITY.md"
	@echo "  clean      remove virtualenvs, stamps, .aws-sam and caches"

# ------------------------------------------------------------------ virtualenvs
setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml
	@start=$$SECONDS
	if [ ! -x "$(PY)" ]; then
	  if ! command -v "$(PYTHON)" >/dev/null 2>&1; then
	    echo "error: '$(PYTHON)' not found; install Python 3.11+ or run 'make setup PYTHON=/path/to/python3.11'" >&2; exit 1
	  fi
	  if ! "$(PYTHON)" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
	    echo "error: '$(PYTHON)' is not a working Python >= 3.11 with venv ($$("$(PYTHON)" -V 2>&1 | head -1))." >&2
	    echo "       Run 'make setup PYTHON=/path/to/python3.11' (or newer)." >&2; exit 1
	  fi
	  echo "==> creating $(VENV) with $$("$(PYTHON)" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
	  "$(PYTHON)" -m venv "$(VENV)"
	fi
	echo "==> installing pip and the project (-e .[dev]) into $(VENV)"
	"$(PY)" -m pip install $(PIP_QUIET) --upgrade pip $(PIP_NOISE)
	# An editable install of packages outside one src folder (package-dir) makes setuptools print an
	# information-only notice, "Editable installation ... may take precedence during imports"; it is not
	# a problem here (no folder at the top is named like a package), so it is not shown.
	PYTHONWARNINGS="ignore:Editable installation" "$(PY)" -m pip install $(PIP_QUIET) -e ".[dev]" $(PIP_NOISE)
	# stockpyl is a test reference for orderflow.policy; its declared deps (Sphinx, matplotlib, ...) are
	# docs tooling, and what the functions we call import (numpy, scipy) comes with the forecast extra.
	"$(PY)" -m pip install $(PIP_QUIET) --no-deps stockpyl==1.0.2 $(PIP_NOISE)
	touch "$@"
	echo "==> $(VENV) ready ($$((SECONDS - start)) s)"

sam-setup: $(SAM_STAMP)

$(SAM_STAMP):
	@start=$$SECONDS
	py312="$$(PYTHON312='$(PYTHON312)' scripts/find-python.sh 3.12)" || {
	  echo "error: 'make sam-setup' needs Python 3.12 (the template's runtime, python3.12) to create $(VENV_SAM)." >&2; exit 1; }
	if [ -x "$(VENV_SAM)/bin/python" ] && ! "$(VENV_SAM)/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
	  echo "==> $(VENV_SAM) is not Python 3.12; recreating it"; rm -rf "$(VENV_SAM)"
	fi
	if [ ! -x "$(VENV_SAM)/bin/python" ]; then
	  echo "==> creating $(VENV_SAM) with $$py312"
	  "$$py312" -m venv "$(VENV_SAM)"
	fi
	echo "==> installing aws-sam-cli==$(SAM_VERSION) into $(VENV_SAM)"
	"$(VENV_SAM)/bin/python" -m pip install $(PIP_QUIET) --upgrade pip $(PIP_NOISE)
	"$(VENV_SAM)/bin/python" -m pip install $(PIP_QUIET) "aws-sam-cli==$(SAM_VERSION)" $(PIP_NOISE)
	rm -f $(VENV_SAM)/.stamp-aws-sam-cli-*
	touch "$@"
	echo "==> $$($(SAM_ENV) $(SAM) --version) ready in $(VENV_SAM) ($$((SECONDS - start)) s)"

# checkov pins its own dependency tree (and would fight moto's), so it gets a virtualenv of its own too.
checkov-setup: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	@start=$$SECONDS
	[ -x "$(VENV_CHECKOV)/bin/python" ] || "$(PYTHON)" -m venv "$(VENV_CHECKOV)"
	echo "==> installing checkov==$(CHECKOV_VERSION) into $(VENV_CHECKOV)"
	"$(VENV_CHECKOV)/bin/python" -m pip install $(PIP_QUIET) --upgrade pip $(PIP_NOISE)
	"$(VENV_CHECKOV)/bin/python" -m pip install $(PIP_QUIET) "checkov==$(CHECKOV_VERSION)" $(PIP_NOISE)
	rm -f $(VENV_CHECKOV)/.stamp-checkov-*
	touch "$@"
	echo "==> checkov $(CHECKOV_VERSION) ready in $(VENV_CHECKOV) ($$((SECONDS - start)) s)"

# statsforecast (AutoETS, the forecasting benchmark's yardstick) needs pandas < 3 and never ships:
# its own virtualenv, which only benchmarks/autoets.py runs in.
autoets-setup: $(AUTOETS_STAMP)

$(AUTOETS_STAMP): benchmarks/requirements-autoets.txt
	@start=$$SECONDS
	[ -x "$(VENV_AUTOETS)/bin/python" ] || "$(PYTHON)" -m venv "$(VENV_AUTOETS)"
	echo "==> installing benchmarks/requirements-autoets.txt (statsforecast) into $(VENV_AUTOETS)"
	"$(VENV_AUTOETS)/bin/python" -m pip install $(PIP_QUIET) --upgrade pip $(PIP_NOISE)
	"$(VENV_AUTOETS)/bin/python" -m pip install $(PIP_QUIET) -r benchmarks/requirements-autoets.txt $(PIP_NOISE)
	touch "$@"
	echo "==> $(VENV_AUTOETS) ready ($$((SECONDS - start)) s)"

# ------------------------------------------------------------------ the console (docs/console.md)
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) console/index.html console/vite.config.js
console: console/dist/index.html

console/node_modules/.stamp-npm-ci: console/package-lock.json console/package.json
	@command -v npm >/dev/null || { echo "error: the console needs Node.js and npm (Node 20.19+ or 22.12+)" >&2; exit 1; }
	echo "==> npm ci (console/)"
	(cd console && npm ci --no-audit --no-fund --loglevel=error)
	touch "$@"

console/dist/index.html: console/node_modules/.stamp-npm-ci $(CONSOLE_SOURCES)
	@echo "==> building the console (console/dist)"
	(cd console && npm run --silent build -- --logLevel warn)

# The browser tests drive Debian's chromium. Installed when missing, as root or with a password-less sudo;
# when it cannot be, only tests/browser is skipped (it says why) and everything else runs.
chromium:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi
	if [ "$$(id -u)" = 0 ]; then as_root=""; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; else
	  echo "note: chromium is not installed and apt-get needs root (no password-less sudo): the browser tests will be skipped"; exit 0; fi
	echo "==> apt-get install chromium (for tests/browser)"
	if ! { $$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	       $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
	  echo "note: chromium could not be installed: the browser tests will be skipped"
	fi

# ------------------------------------------------------------------ checks
lint: setup sam-setup checkov-setup
	@# Every check runs even when an earlier one fails, so one run shows every problem.
	failed=()
	step() { local name="$$1"; shift; echo "==> $$name"; "$$@" || { echo "FAILED: $$name" >&2; failed+=("$$name"); }; }
	step "ruff check" "$(VENV)/bin/ruff" check --extend-exclude '.venv*,.aws-sam' .
	step "import contracts (lint-imports: pyproject.toml [tool.importlinter])" "$(VENV)/bin/lint-imports"
	step "cfn-lint $(TEMPLATE)" "$(VENV)/bin/cfn-lint" $(TEMPLATE)
	step "sam validate --lint" env $(SAM_LINT_ENV) $(SAM) validate --lint --region $(REGION) -t $(TEMPLATE)
	step "ASL definitions (scripts/check_asl.py)" "$(PY)" scripts/check_asl.py $(TEMPLATE)
	# BC_SKIP_MAPPING: offline, checkov would try to fetch Prisma Cloud's guideline links and print the failure.
	step "checkov $(TEMPLATE) (skips argued in .checkov.yaml)" env BC_SKIP_MAPPING=TRUE \
	  "$(VENV_CHECKOV)/bin/checkov" -f $(TEMPLATE) --config-file .checkov.yaml
	if (( $${#failed[@]} )); then
	  echo "lint failed: $$(IFS=,; echo "$${failed[*]}" | sed 's/,/, /g')" >&2; exit 1
	fi
	echo "lint: all checks passed"

# build first: tests/template/test_build_sizes.py checks the real .aws-sam/build against the size limit;
# console and chromium for tests/browser.
test: setup lint build console chromium
	@echo "==> pytest $(PYTEST_ARGS)"
	rc=0; "$(PY)" -m pytest $(PYTEST_ARGS) || rc=$$?
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (exit 5); that counts as a failure" >&2; fi
	exit $$rc

screenshots: setup build console chromium
	ORDERFLOW_SCREENSHOTS="$(CURDIR)/docs/console" "$(PY)" -m pytest tests/browser -q

# ------------------------------------------------------------------ running
demo: setup
	"$(PY)" -m orderflow_cli.demo

up: setup console
	"$(PY)" -m orderflow_local up --port $(PORT)

bench: setup
	@if [ -f benchmarks/__main__.py ]; then
	  "$(PY)" -m benchmarks
	else
	  echo "Nothing to run: benchmarks/__main__.py does not exist yet."
	fi

bench-forecast: setup autoets-setup
	"$(PY)" -m benchmarks.forecasting_global

soak: setup
	"$(PY)" scripts/reliability.py --soak $(PYTEST_ARGS)

# ------------------------------------------------------------------ deploy artefacts
# The whole API's OpenAPI document, merged from every function's handlers (docs/api.md); the intake serves it.
openapi: setup
	"$(PY)" scripts/openapi.py

# The layers build with their own Makefiles (layers/*/Makefile, docs/build.md) and LAYER_PYTHON, the
# 3.12 of $(VENV_SAM) (it has pip, which a distribution's python3.12 may lack).
build: openapi sam-setup
	@py312="$$(PYTHON312='$(PYTHON312)' scripts/find-python.sh 3.12)"
	echo "==> sam build (python3.12 from $$(dirname "$$py312"))"
	PATH="$$(dirname "$$py312"):$$PATH" LAYER_PYTHON="$(CURDIR)/$(VENV_SAM)/bin/python" $(SAM_ENV) $(SAM) build -t $(TEMPLATE)
	echo "==> the functions' own modules as bytecode (Lambda's /var/task is read-only: without it, a compile at every cold start)"
	"$$py312" -m compileall -q --invalidation-mode unchecked-hash .aws-sam/build/*Function
	echo "==> unzipped sizes (limit $(MAX_FUNCTION_MB) MB per function + its layers)"
	"$(VENV_SAM)/bin/python" scripts/build_sizes.py --build-dir .aws-sam/build --limit-mb $(MAX_FUNCTION_MB)
	echo "==> the built layers import and forecast under Python 3.12 (scripts/check_layer_imports.py)"
	"$(VENV_SAM)/bin/python" scripts/check_layer_imports.py --build-dir .aws-sam/build

# Talks to AWS (CloudFormation, S3), so it runs only where credentials are: nothing in `make test` uses it.
# No -t: sam deploy then takes the built template (.aws-sam/build) and reads samconfig.toml from here.
# Then the console's static files go to its bucket (scripts/publish_console.py, docs/console.md); another
# OIDC issuer for staff is named with CONSOLE_PUBLISH_ARGS='--authorize-url ... --token-url ... --client-id ...'.
deploy: lint build console
	@config="$(CURDIR)/samconfig.toml"
	if [ -n "$(GUIDED)" ] || ! grep -qs '^\[$(CONFIG_ENV)\.deploy\.parameters\]' "$$config"; then
	  echo "==> sam deploy --guided (answers are saved to samconfig.toml, environment $(CONFIG_ENV))"
	  SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided --config-file "$$config" --config-env $(CONFIG_ENV)
	else
	  echo "==> sam deploy (samconfig.toml, environment $(CONFIG_ENV))"
	  SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-file "$$config" --config-env $(CONFIG_ENV)
	fi
	echo "==> publishing the console (scripts/publish_console.py)"
	"$(PY)" scripts/publish_console.py --config-env $(CONFIG_ENV) $(CONSOLE_PUBLISH_ARGS)

clean:
	rm -rf $(VENV) $(VENV_SAM) $(VENV_CHECKOV) $(VENV_AUTOETS) .aws-sam .pytest_cache .ruff_cache build dist *.egg-info

	rm -rf $(VENV) $(VENV_SAM) $(VENV_CHECKOV) .aws-sam .pytest_cache .ruff_cache build dist *.egg-info console/node_modules console/dist
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
