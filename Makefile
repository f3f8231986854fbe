# The two commands of the Quick start, and what they need. Each target installs what it uses.
PYTHON ?= python3
VENV := .venv
MINISTACK_VENV := .venv-ministack
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test test-fast lint translations screenshots bench bench-pages
run: $(VENV)/.runtime $(MINISTACK_VENV)/.ready  ## run the app against a local Cognito (FRESH=1: an empty one)
	$(VENV)/bin/python -m local.run $(if $(FRESH),--fresh)

# The coverage floor is app/'s measured coverage on the whole suite (92.4% when it was set), rounded
# down: the report's last line says the floor and the figure (pyproject.toml says what is measured).
COVERAGE_FLOOR := 92

test: $(VENV)/.dev $(MINISTACK_VENV)/.ready  ## install everything the tests use, then run them all
	scripts/install-test-packages
	$(MAKE) node_modules/.ready
	$(VENV)/bin/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# The tier for the edit-test loop: no browser, no emulator, no server, a few hundred fuzzed requests.
test-fast: $(VENV)/.dev  ## the tests that need nothing but Python: 40 to 75 s on an idle 2-core machine (docs/development.md)
	SIGNUP_FUZZ_EXAMPLES=300 $(VENV)/bin/python -m pytest -m "not browser and not emulator and not servers"

# After changing a message: extract, merge into every catalogue, translate the new entries in
# app/translations/<lang>/LC_MESSAGES/messages.po, then run this again to compile them.
translations: $(VENV)/.runtime
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_ngettext:1,2 --no-location --sort-output --omit-header -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d app/translations --use-fuzzy

screenshots: $(VENV)/.dev $(MINISTACK_VENV)/.ready  ## the README's pictures, in docs/screenshots/
	scripts/install-test-packages
	$(VENV)/bin/python -m scripts.screenshots

# wrk, libbrotli1 (which bench/signup.lua reads brotli with) and valgrind from Debian, py-spy from
# PyPI: tools of the bench alone, so none is in a requirements file. Lighthouse comes from npm.
bench: $(VENV)/.dev node_modules/.lighthouse  ## measure the app under load on loopback, its pages in Lighthouse, its instructions in callgrind; writes docs/BENCHMARKS.md and docs/profiles/
	command -v wrk >/dev/null && command -v callgrind_control >/dev/null && ldconfig -p | grep -q libbrotlidec.so.1 || { apt-get update -qq && apt-get install -y -qq wrk libbrotli1 valgrind; }
	$(VENV)/bin/pip install $(PIP_QUIET) py-spy==0.4.3
	$(VENV)/bin/python -m bench.run
	$(VENV)/bin/python -m bench.instructions

bench-pages: $(VENV)/.dev node_modules/.lighthouse  ## Lighthouse alone on the three pages; rewrites that part of docs/BENCHMARKS.md
	$(VENV)/bin/python -m bench.run --pages

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy app

$(VENV)/.runtime: requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install $(PIP_QUIET) -r requirements-dev.txt
	touch $@

# axe-core and the Nu HTML Checker, for the page checks (their install scripts are not needed).
# Lighthouse is the bench's alone: an optional dependency, which the tests leave out.
node_modules/.ready: package.json package-lock.json
	npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

node_modules/.lighthouse: package.json package-lock.json
	command -v chromium >/dev/null && command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium npm; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch node_modules/.ready $@

# ministack pins botocore exactly, so it gets a virtual environment of its own.
$(MINISTACK_VENV)/.ready: requirements-ministack.txt
	test -x $(MINISTACK_VENV)/bin/python || $(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/pip install $(PIP_QUIET) -r requirements-ministack.txt
	touch $@
