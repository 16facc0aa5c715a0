# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
MANAGE := cd server && ../$(PY) manage.py

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run test install browser lint bench-shipping

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium and its driver, for the browser tests (nothing is downloaded by the tests).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver)

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) migrate_clickhouse
	$(MANAGE) ensure_superuser
	$(MANAGE) seed_demo --once
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving on http://localhost:$${PORT:-8000} (API docs: /api/docs/)"
	cd server && exec ../$(BIN)/gunicorn config.wsgi:application -c config/gunicorn.conf.py

test: install browser
	$(BIN)/ruff check server tests bench
	node --test components/client/
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench

bench-shipping: install
	$(PY) bench/shipping_throughput.py
