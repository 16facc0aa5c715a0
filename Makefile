# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
MANAGE := cd server && ../$(PY) manage.py

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
AS_POSTGRES := $(shell [ "$$(id -u)" -eq 0 ] && echo runuser -u postgres -- || echo sudo -u postgres)
UI := components/dashboards-ui
UI_BUNDLE := server/dashboards/static/dashboards/app.js

.PHONY: run test install ui browser postgres dtlpy-client cvat-clients lint bench-shipping

# Each step of `make run` says what it does before doing it.
STEP = @printf '\n\033[1m==> %s\033[0m\n'

# uv (from PyPI, into the venv) installs the same packages as pip in seconds from its cache, and
# lists what it installs. The venv is made without pip (ensurepip alone takes seconds); uv is put
# into it by the system's pip, else by the venv's own after ensurepip; uv tries its cache alone
# first, then the index. Plain pip is the fallback when uv cannot be had. pip is installed into
# the venv either way, for `.venv/bin/pip`.
UV_SPEC := 'uv>=0.5,<1'
$(STAMP): pyproject.toml
	$(STEP) "Python packages into $(VENV) (first run, or pyproject.toml changed)"
	$(PYTHON) -m venv --without-pip $(VENV)
	@if $(PYTHON) -m pip --python $(PY) install --disable-pip-version-check --quiet $(UV_SPEC) 2>/dev/null || \
	    { $(PY) -m ensurepip --default-pip >/dev/null && \
	      $(BIN)/pip install --disable-pip-version-check --quiet $(UV_SPEC); }; then \
	  $(PY) -m uv pip install --python $(PY) --offline -e '.[dev,postgres]' pip || \
	  { echo "not all of it in uv's cache: downloading"; $(PY) -m uv pip install --python $(PY) -e '.[dev,postgres]' pip; }; \
	else \
	  echo "uv unavailable: installing with pip (slower)"; \
	  { test -x $(BIN)/pip || $(PY) -m ensurepip --default-pip >/dev/null; } && \
	  $(BIN)/pip install --disable-pip-version-check --progress-bar off -e '.[dev,postgres]'; \
	fi
	touch $(STAMP)

install: $(STAMP)

# CVAT's SDK and CLI (pinned) in a venv of their own, so their pins cannot disturb the server's;
# tests/test_cvat_clients.py runs them as subprocesses against a live server.
CVAT_VENV := .venv-cvat
$(CVAT_VENV)/.installed: tests/clients/cvat-requirements.txt
	$(PYTHON) -m venv $(CVAT_VENV)
	$(CVAT_VENV)/bin/pip install --quiet -r tests/clients/cvat-requirements.txt
	touch $@

cvat-clients: $(CVAT_VENV)/.installed

# The dashboard pages' script, bundled with Chart.js from npm into static files at build time.
$(UI)/node_modules/.installed: $(UI)/package.json $(UI)/package-lock.json
	$(STEP) "JavaScript packages for the dashboard pages (npm ci)"
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUNDLE): $(UI)/node_modules/.installed $(UI)/build.mjs $(wildcard $(UI)/src/*.js)
	$(STEP) "Bundling the dashboard pages' script (esbuild)"
	cd $(UI) && node build.mjs

ui: $(UI_BUNDLE)

# Debian packages the tests drive for real: Chromium and its driver (browser tests; nothing is
# downloaded by the tests), nginx (the compose reverse-proxy config is run, not just parsed) and curl
# (the documents' commands are run by tests/test_docs_commands.py).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v curl >/dev/null && \
	  { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    chromium chromium-driver nginx-light curl)

# PostgreSQL, the compose stack's database: the `relational` tests run on it as well as on SQLite
# (tests/test_on_postgresql.py, at POSTGRES_TEST_URL). Installed from Debian where missing (the
# postgres user then gets the password the default URL carries), started when stopped.
postgres:
	@command -v pg_ctlcluster >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql && \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && \
	  $(AS_POSTGRES) psql -qc "ALTER ROLE postgres PASSWORD 'postgres'"; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start

# Dataloop's SDK in a venv of its own (its pins are not the server's), for tests/test_dtlpy_client.py.
DTLPY_VENV := .venv-dtlpy
DTLPY_REQUIREMENTS := tests/clients/requirements-dtlpy.txt

$(DTLPY_VENV)/.installed: $(DTLPY_REQUIREMENTS)
	$(PYTHON) -m venv $(DTLPY_VENV)
	$(DTLPY_VENV)/bin/pip install --quiet -r $(DTLPY_REQUIREMENTS)
	touch $@

dtlpy-client: $(DTLPY_VENV)/.installed

# The server applies the ClickHouse migrations itself when it starts (CLICKHOUSE_MIGRATE_ON_START).
# The demo seed writes only to the spool, which the server ships once it is up; its spool writes
# skip the per-request fsync (NORMAL survives a crash of the process, all a one-off seed needs).
run: install ui
	$(STEP) "Django database migrations ($${ANALYTICS_DATA_DIR:-data})"
	$(MANAGE) migrate --noinput
	$(STEP) "Superuser"
	$(MANAGE) ensure_superuser
	$(STEP) "Demo data (once per data directory; SEED_DEMO=false skips it)"
	cd server && SPOOL_SYNCHRONOUS=NORMAL ../$(PY) manage.py seed_demo --once
	$(STEP) "Starting the server: http://localhost:$${PORT:-8000}/analytics/ (API docs: /api/docs/)"
	cd server && exec ../$(BIN)/gunicorn config.wsgi:application -c config/gunicorn.conf.py

test: install ui browser postgres dtlpy-client cvat-clients
	$(BIN)/ruff check server tests bench grafana
	node --test components/client/
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check server tests bench grafana
	$(BIN)/ruff format --check server tests bench grafana

bench-shipping: install
	$(PY) bench/shipping_throughput.py
