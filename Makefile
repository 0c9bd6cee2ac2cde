# The README names two targets: `make demo` and `make test`. `make check` runs every gate CI runs.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: venv demo test check lint types program program-verify bench clean

# Create or refresh the virtualenv whenever the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/memefans demo

test: venv
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

types: venv
	$(VENV)/bin/mypy

check: lint types test

# Rebuild the gift pool program from C source (needs clang and ld.lld).
program: venv
	$(PY) -m programs.gift_pool.build

# Rebuild from source and fail if the bytes differ from the committed .so.
program-verify: venv
	$(PY) -m programs.gift_pool.build --verify

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) .memefans .pytest_cache .mypy_cache .ruff_cache
