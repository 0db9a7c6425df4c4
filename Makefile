# Kontor: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install run test bench lint

install: $(STAMP)

# Re-installs only when requirements.txt or pyproject.toml changes (or the venv is missing). Kontor itself is
# installed editable (`-e .`): its entry points work and the code stays this checkout's.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt -e .
	touch $(STAMP)

run: install
	$(PY) run.py

# The whole suite, browser tests included; KONTOR_TEST_DATABASE_URL=postgresql+psycopg://... runs it on PostgreSQL.
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests

# Lint and dead code (CI fails on findings): ruff.toml's rules; vulture over the code, its tests and
# tools/vulture_whitelist.py (what frameworks call by registration).
VULTURE_PATHS := core addons run.py tools bench docs/examples tests gunicorn.conf.py
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/vulture $(VULTURE_PATHS) --min-confidence 60

bench: install
	@if [ -f bench/run_all.py ]; then $(PY) bench/run_all.py; else echo "bench/run_all.py does not exist yet"; fi
