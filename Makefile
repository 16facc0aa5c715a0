# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
MANAGE := cd server && ../$(PY) manage.py

.PHONY: run test install lint bench-shipping clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) migrate_clickhouse
	$(MANAGE) ensure_superuser
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving on http://localhost:$${PORT:-8000} (API docs: /api/docs/)"
	cd server && exec ../$(BIN)/gunicorn config.wsgi:application -c config/gunicorn.conf.py

test: install
	$(BIN)/ruff check server tests bench
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench

bench-shipping: install
	$(PY) bench/shipping_throughput.py
