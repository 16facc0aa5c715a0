# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
MANAGE := cd server && ../$(PY) manage.py

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
UI := components/dashboards-ui
UI_BUNDLE := server/dashboards/static/dashboards/app.js

.PHONY: run test install ui browser dtlpy-client lint bench-shipping

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The dashboard pages' script, bundled with Chart.js from npm into static files at build time.
$(UI)/node_modules/.installed: $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUNDLE): $(UI)/node_modules/.installed $(UI)/build.mjs $(wildcard $(UI)/src/*.js)
	cd $(UI) && node build.mjs

ui: $(UI_BUNDLE)

# Debian packages the tests drive for real: Chromium and its driver (browser tests; nothing is
# downloaded by the tests) and nginx (the compose reverse-proxy config is run, not just parsed).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
	  { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    chromium chromium-driver nginx-light)

# Dataloop's SDK in a venv of its own (its pins are not the server's), for tests/test_dtlpy_client.py.
DTLPY_VENV := .venv-dtlpy
DTLPY_REQUIREMENTS := tests/clients/requirements-dtlpy.txt

$(DTLPY_VENV)/.installed: $(DTLPY_REQUIREMENTS)
	$(PYTHON) -m venv $(DTLPY_VENV)
	$(DTLPY_VENV)/bin/pip install --quiet -r $(DTLPY_REQUIREMENTS)
	touch $@

dtlpy-client: $(DTLPY_VENV)/.installed

run: install ui
	$(MANAGE) migrate --noinput
	$(MANAGE) migrate_clickhouse
	$(MANAGE) ensure_superuser
	$(MANAGE) seed_demo --once
	@echo "Serving on http://localhost:$${PORT:-8000} (API docs: /api/docs/)"
	cd server && exec ../$(BIN)/gunicorn config.wsgi:application -c config/gunicorn.conf.py

test: install ui browser dtlpy-client
	$(BIN)/ruff check server tests bench grafana
	node --test components/client/
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check server tests bench grafana
	$(BIN)/ruff format --check server tests bench grafana

bench-shipping: install
	$(PY) bench/shipping_throughput.py
