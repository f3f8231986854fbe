# The two commands of the Quick start, and what they need. Each target installs what it uses.
PYTHON ?= python3
VENV := .venv
MINISTACK_VENV := .venv-ministack
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test lint
run: $(VENV)/.runtime $(MINISTACK_VENV)/.ready  ## run the app against a local Cognito
	$(VENV)/bin/python -m local.run

test: $(VENV)/.dev $(MINISTACK_VENV)/.ready  ## install everything the tests use, then run them all
	scripts/install-test-packages
	$(VENV)/bin/python -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy app

$(VENV)/.runtime: requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install $(PIP_QUIET) -r requirements-dev.txt
	touch $@

# ministack pins botocore exactly, so it gets a virtual environment of its own.
$(MINISTACK_VENV)/.ready: requirements-ministack.txt
	test -x $(MINISTACK_VENV)/bin/python || $(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/pip install $(PIP_QUIET) -r requirements-ministack.txt
	touch $@
