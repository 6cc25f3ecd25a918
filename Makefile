# The two commands a fresh machine needs: `make demo` and `make test`.
# Both create or update .venv from pyproject.toml pinned by constraints.txt.
PYTHON ?= python3
# uv installs the same pins as pip in about 20 s on a fresh machine, where pip took two and a half minutes;
# compiled to bytecode then, as pip does, not by the tests' first imports.
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench dagster lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/avc2sage demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dashboard's browser test drives Debian's Chromium (Playwright's own browser download cannot work here).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

test: install lint $(CHROMIUM)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25

bench: install
	$(BIN)/avc2sage bench

# The Dagster UI on the project; .dagster/dagster.yaml limits the "duckdb" pool to one writer.
dagster: install
	DAGSTER_HOME=$(CURDIR)/.dagster $(BIN)/dagster dev

# Re-pin every dependency after changing pyproject.toml (needs PyPI).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^avc2sage' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dbt_project/target data/generated
