# PainPath: `make run` starts it with demo data, `make test` runs every check.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run test lint typecheck test-fast bench clean safety-case

setup: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

run: setup
	$(VENV)/bin/painpath db upgrade
	@echo "Demo accounts (email / password / TOTP secret for the 6-digit security code):"
	@$(VENV)/bin/painpath demo --seed 7 --json
	$(VENV)/bin/painpath serve --in-process-worker

lint: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy

test: setup
	bash scripts/test

test-fast: setup
	$(VENV)/bin/pytest -q -m "not e2e" -x

safety-case: setup
	$(VENV)/bin/python scripts/safety_case.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
