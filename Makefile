# PainPath: `make run` starts it with demo data, `make test` runs every check.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run test lint typecheck test-fast bench clean safety-case audit

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

# Known vulnerabilities in the locked dependencies (docs/security.md). Needs PyPI and
# the advisory data online; where they cannot be reached it says so and does not fail.
audit: setup
	@$(UV) export --frozen --format requirements-txt --no-emit-project > $(TOOLS)/audit-requirements.txt
	@if $(UV) tool run pip-audit --version > /dev/null 2>&1; then \
		$(UV) tool run pip-audit --strict --require-hashes --disable-pip \
			-r $(TOOLS)/audit-requirements.txt; \
	else \
		echo "make audit: pip-audit or its vulnerability data cannot be reached from here;"; \
		echo "run 'make audit' where PyPI and the advisory database are reachable (docs/security.md)."; \
	fi

safety-case: setup
	$(VENV)/bin/python scripts/safety_case.py

# Speed and memory targets (not part of `make test`). Reduced scale by default: 10,000
# then 100,000 patients, the measured GP's 2,000 with a year of history each and everyone
# else 30 days, about 15 minutes on 2 cores. `make bench FULL=1`: every patient with a
# year (about 36 million diary rows; hours). Results go to docs/benchmarks.md.
bench: setup
	$(VENV)/bin/python benchmarks/run.py $(if $(FULL),--full,) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
