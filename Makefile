# `make run` opens the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "DeepWire needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(PY) main.py $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# One worker per core; a test file stays on one worker so its module fixtures are built once.
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n auto --dist loadfile

bench: $(VENV)/.installed
	for script in bench/*.py; do $(PY) $$script || exit 1; done
