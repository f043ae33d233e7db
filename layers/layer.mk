# What both layer Makefiles share (included by layers/core/Makefile and layers/forecasting/Makefile).
# `sam build` runs `make build-<Layer>` with ARTIFACTS_DIR set; `make build` puts Python 3.12 first on PATH.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:

LAYER_PYTHON ?= python3.12
LAYERS := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
TRIM := $(LAYERS)../scripts/trim_layer.py
# Wheels for the Lambda platform whatever the build machine is; both layers resolve with the same flags,
# so shared dependencies come out alike.
PIP_INSTALL := $(LAYER_PYTHON) -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
	--no-compile --no-warn-conflicts --only-binary=:all: --implementation cp --python-version 3.12 \
	--platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64
# --no-warn-conflicts: pip would compare the layer with the packages of the interpreter that runs it (sam's
# own venv), which never ship. Some machines' pip config lists local indexes that hold only a few packages;
# PIP_NOISE drops that one warning.
PIP_NOISE := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# $(call check_build_env,<target>): sam's ARTIFACTS_DIR is set and LAYER_PYTHON is the runtime's 3.12.
define check_build_env
[ -n "$(ARTIFACTS_DIR)" ] || {
  echo "error: ARTIFACTS_DIR is not set (sam build sets it); by hand: ARTIFACTS_DIR=/tmp/layer make -f $(firstword $(MAKEFILE_LIST)) $(1)" >&2; exit 1; }
$(LAYER_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' || {
  echo "error: '$(LAYER_PYTHON)' is not Python 3.12 (the runtime's); the layer's bytecode must match it" >&2; exit 1; }
endef
