# One entry point for people and CI.  `make demo` and `make test` bootstrap everything they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STATE := .warehouse
PERIOD ?= 2026-03
# The demo also loads the month before (for month-on-month change) and June 2025, the last month
# before the province merger (its former units roll up into today's).
DEMO_HISTORY ?= 2025-06 2026-02
ENV := source $(STATE)/env.sh &&

.PHONY: help install warehouse airflow smtp bootstrap browser office demo portal bi bi-install test test-deploy lint bench lock down clean fuzz mutation

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]' 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	touch $@

install: $(BIN)/.installed  ## create .venv and install the project

warehouse:  ## start the project-local PostgreSQL (or use WAREHOUSE_DSN)
	scripts/warehouse.sh start

airflow: install warehouse  ## initialise the embedded Airflow home (SQLite metadata)
	$(ENV) mkdir -p "$$AIRFLOW_HOME" && $(BIN)/airflow db migrate >"$(STATE)/airflow-migrate.log" 2>&1 \
	  && $(BIN)/airflow pools set d06_warehouse "$${D06_WAREHOUSE_POOL_SLOTS:-2}" "Loads and dbt builds" \
	    >>"$(STATE)/airflow-migrate.log" 2>&1 \
	  || { tail -n 40 "$(STATE)/airflow-migrate.log"; exit 1; }

smtp: install warehouse  ## start the local SMTP sink that writes .eml files to .warehouse/outbox
	$(ENV) $(BIN)/d06 smtp-sink start

bootstrap: install warehouse airflow smtp
	$(ENV) $(BIN)/d06 db init

demo: bootstrap  ## run the monthly load for PERIOD end to end on the demo inbox and print a summary
	for p in $(DEMO_HISTORY) $(PERIOD); do \
	  $(ENV) $(BIN)/d06 demo-inbox --period $$p && \
	  $(ENV) $(BIN)/airflow dags test d06_monthly_load --conf "{\"period\": \"$$p\"}" >"$(STATE)/demo-dag-$$p.log" 2>&1 \
	    || { tail -n 60 "$(STATE)/demo-dag-$$p.log"; exit 1; }; \
	done
	$(ENV) $(BIN)/d06 summary --period $(PERIOD)
	$(ENV) $(BIN)/d06 portal start
	$(ENV) $(BIN)/d06 portal link --unit $(PORTAL_UNIT)
	$(MAKE) --no-print-directory bi

# The unit submission portal in the background (http://127.0.0.1:D06_PORTAL_PORT), with a sign-in
# link for one demo unit; `d06 portal stop` stops it.
PORTAL_UNIT ?= AG.STP
portal: bootstrap  ## start the unit submission portal in the background and print a sign-in link
	$(ENV) $(BIN)/d06 portal start
	$(ENV) $(BIN)/d06 portal link --unit $(PORTAL_UNIT)

# Superset (README "Dashboards (Superset)"): its own virtual environment .warehouse/bi-venv, locked
# by bi/constraints.txt and never mixed with .venv; metadata in the database d06_superset; the
# bundle bi/bundle imported; the server in the background (`$(BIN)/python -m bi.superset_service down`
# stops it).  Prints the dashboard's address and the admin login.
BI_VENV := $(STATE)/bi-venv
$(BI_VENV)/.installed: bi/requirements.in bi/constraints.txt
	$(BIN)/python -m bi.superset_service install

bi-install: install $(BI_VENV)/.installed

bi: bootstrap bi-install  ## Superset with the dashboards over the marts, in the background; prints address + login
	$(ENV) $(BIN)/python -m bi.superset_service up

# Debian's Chromium and its driver, for the test that opens the Data Docs offline; installed with
# apt only when missing (as root, or with passwordless sudo), never downloaded by Selenium.
APT_GET = $$([ "$$(id -u)" = 0 ] || echo sudo -n) env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o=Dpkg::Use-Pty=0
browser:  ## Chromium and chromedriver from apt (headless Data Docs test), only when missing
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(APT_GET) install chromium chromium-driver </dev/null >/dev/null \
	  || { $(APT_GET) update </dev/null >/dev/null && $(APT_GET) install chromium chromium-driver </dev/null >/dev/null; }; }

# LibreOffice (headless) and Tesseract with its Vietnamese model, for the tests that build Word
# and PDF reports with a real office suite and read scanned PDFs by OCR; apt only when missing.
OFFICE_PACKAGES = libreoffice-writer-nogui fonts-liberation2 tesseract-ocr tesseract-ocr-vie
office:  ## LibreOffice, Liberation fonts and Tesseract (vie) from apt (office-file and OCR tests), only when missing
	@command -v soffice >/dev/null && test -n "$$(fc-list 'Liberation Serif' 2>/dev/null)" \
	  && command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx vie || { \
	  $(APT_GET) install $(OFFICE_PACKAGES) </dev/null >/dev/null \
	  || { $(APT_GET) update </dev/null >/dev/null && $(APT_GET) install $(OFFICE_PACKAGES) </dev/null >/dev/null; }; }

test: bootstrap browser office bi-install  ## run the whole test suite against the real PostgreSQL
	$(ENV) $(BIN)/pytest

# A real deployment: scheduler, dag-processor, triggerer, api-server, two Celery workers and Redis,
# a backfill of three months with one worker killed mid-run (scripts/test_deploy.py).  Redis from
# apt only when missing.
test-deploy: install warehouse  ## the monthly load on a real Celery deployment, a worker killed mid-run
	@command -v redis-server >/dev/null || { \
	  $(APT_GET) install redis-server </dev/null >/dev/null \
	  || { $(APT_GET) update </dev/null >/dev/null && $(APT_GET) install redis-server </dev/null >/dev/null; }; }
	$(ENV) $(BIN)/python scripts/test_deploy.py

bench: install warehouse  ## loader speed and parser memory, as ratios measured side by side
	$(ENV) $(BIN)/python bench/bench_ingest.py

lint:  install ## ruff (lint and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

lock:  ## regenerate constraints.txt from a clean install
	rm -rf /tmp/d06-lock && $(PYTHON) -m venv /tmp/d06-lock
	/tmp/d06-lock/bin/pip install --quiet '.[dev]'
	{ echo "# Lock file: pip freeze of a fresh install of pyproject.toml [dev] on Python 3.11 (regenerate with 'make lock')."; \
	  /tmp/d06-lock/bin/pip freeze | grep -v -E '^(d06-warehouse|-e )'; } > constraints.txt

fuzz: install  ## property-based fuzzing of the submission adapters, long run (FUZZ_EXAMPLES=4000)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest -p no:cacheprovider tests/fuzz

# Mutation testing (on demand, not in CI): the number formats and the row validation of the
# submission parser, run by mutmut on a snapshot of the work tree so that edits made meanwhile
# do not disturb it.  Settings in pyproject.toml [tool.mutmut].
MUTATION_DIR ?= /tmp/d06-mutation
MUTANTS ?= 'ingest.numbers.*' \
  'ingest.submissions.parse.x_normalise_period*' 'ingest.submissions.parse.x_unit_valid_in_period*' \
  'ingest.submissions.parse.x__number_or_text*' 'ingest.submissions.parse.x__is_negative*' \
  'ingest.submissions.parse.x__count*' 'ingest.submissions.parse.x__vi_number*' 'ingest.submissions.parse.x__source_line*' \
  'ingest.submissions.parse.x__flags*' 'ingest.submissions.parse.xǁ_RowCheckerǁ*' \
  'ingest.submissions.parse.xǁ_Invalidǁ*'

mutation: install  ## mutation testing (mutmut) of the number parser and row validation, on a snapshot
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C $(MUTATION_DIR)
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/mutmut run --max-children $${MUTATION_JOBS:-2} $(MUTANTS) >mutmut.log 2>&1 \
	  || { tail -c 3000 mutmut.log; exit 1; }
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/mutmut results | grep -v 'not checked' || true
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/mutmut results --all true | grep -v 'not checked' \
	  | awk -F': ' '{n[$$2]++; t++} END {for (k in n) print k ": " n[k]; print "killed " n["killed"] "/" t}'

down:  ## stop Superset, the portal, the SMTP sink and the local PostgreSQL
	-$(ENV) $(BIN)/python -m bi.superset_service down
	-$(ENV) $(BIN)/d06 portal stop
	-$(ENV) $(BIN)/d06 smtp-sink stop
	scripts/warehouse.sh stop

clean: down  ## remove every local state (.venv is kept)
	rm -rf $(STATE)
