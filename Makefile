# The two commands a newcomer needs: `make demo` and `make test`. Only python3 is assumed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench collector ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tokentrail demo

collector: $(STAMP)
	$(VENV)/bin/tokentrail collector

ui: $(STAMP)
	$(VENV)/bin/tokentrail ui

test: $(STAMP)
	$(VENV)/bin/ruff check sdk collector ui tests examples bench
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check sdk collector ui tests examples bench
	$(VENV)/bin/ruff format --check sdk collector ui tests examples bench

bench: $(STAMP)
	$(PY) bench/observe_overhead.py
	$(PY) bench/ingest.py
	$(PY) bench/stats_query.py
	$(PY) bench/ui_render.py --spans 1000000 --repeat 3 --browser

clean:
	rm -rf $(VENV) .tokentrail .pytest_cache tests/artifacts
