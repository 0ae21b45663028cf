# MozaiksCore for Django.
#   make run    set up and serve the demo on http://127.0.0.1:8000 (embedded default)
#   make test   set up and run the whole suite (SQLite leg, then PostgreSQL leg)
# Both are idempotent: the virtualenv is rebuilt only when pyproject.toml changes.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL leg of `make test` (pytest-django creates and drops test_<name>).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mozaiks
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Both legs run in the random order of one seed (pytest-randomly), printed first; repeat an order
# with `make test SEED=N`.
ifndef SEED
SEED := $(shell $(PYTHON) -c 'import random; print(random.randrange(1, 2**32))')
endif

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

.PHONY: install run run-scaled scaled-env test lint system-deps test-deps demo clean
install: $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# axe-core for the chat page's accessibility check, from npm into tests/chat/node_modules (git-ignored).
AXE := tests/chat/node_modules/axe-core/axe.min.js
test-deps: $(AXE)
$(AXE):
	npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix tests/chat axe-core@4

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py mozaiks_demo --url http://$(HOST):$(PORT)

run: demo
	$(PY) manage.py mozaiks_serve $(HOST):$(PORT)

# The multi-process deployment on one machine (docs/deployment.md): production settings,
# PostgreSQL, Redis, 2 uvicorn processes (ports 8001 and 8002), 2 Celery workers and beat.
SCALED_ENV := var/scaled.env
SCALED_DATABASE ?= mozaiks_scaled
$(SCALED_ENV):
	@mkdir -p var
	@printf 'DEBUG=false\nSECRET_KEY=%s\nALLOWED_HOSTS=127.0.0.1,localhost\nCSRF_TRUSTED_ORIGINS=http://127.0.0.1:8001,http://127.0.0.1:8002,http://localhost:8001,http://localhost:8002\nSECURE_SSL_REDIRECT=false\nEMAIL_URL=file://\nDATABASE_URL=postgres://postgres@127.0.0.1:5432/$(SCALED_DATABASE)\nREDIS_URL=redis://127.0.0.1:6379/2\nPROMETHEUS_MULTIPROC_DIR=var/metrics\nMOZAIKS_METRICS_TOKEN=%s\n' \
	  "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))')" > $(SCALED_ENV)
	@echo "wrote $(SCALED_ENV) (a fresh secret; edit it to point at other services)"

scaled-env: $(SCALED_ENV)

run-scaled: $(STAMP) $(SCALED_ENV)
	@psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='$(SCALED_DATABASE)'" | grep -q 1 || \
	  psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $(SCALED_DATABASE)"
	set -a && . ./$(SCALED_ENV) && set +a && \
	  $(PY) manage.py check --deploy --fail-level WARNING && \
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py collectstatic --noinput -v0 && \
	  $(PY) -m mozaiks_core.supervisor Procfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) system-deps test-deps
	$(VENV)/bin/ruff check .
	mkdir -p var && NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d var/site >var/mkdocs.log 2>&1 || { cat var/mkdocs.log; exit 1; }
	@echo "random test order: seed $(SEED) (make test SEED=$(SEED) repeats it)"
	$(PY) -m pytest -p randomly --randomly-seed=$(SEED) -m "not postgres" $(PYTEST_ARGS)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -p randomly --randomly-seed=$(SEED) -m "postgres or dbmatrix" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
