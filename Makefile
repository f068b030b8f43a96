# alscell: `make demo` and `make test` are the two commands a new machine needs (see README.md).
# Each installs what it needs first: uv (pinned, in .tools/), then the locked environment in .venv/.

PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-$(UV_VERSION)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help demo test system-packages report-packages check pytest bench soak lint format lock docs clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: $(STAMP) report-packages  ## install, then run the demo on the embedded SQLite default
	$(BIN)/alscell demo

test: $(STAMP) system-packages  ## install, then run every check and the whole test suite
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory pytest

system-packages:  ## Debian packages the tests need (PostgreSQL, Chromium, PDF), installed where missing
	scripts/ensure-system-packages.sh test

report-packages:  ## Debian packages the PDF report needs, installed where missing
	scripts/ensure-system-packages.sh report

check: $(STAMP)  ## lint, format check, types, layer contracts, generated docs
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/cog --check -c docs/cli.md docs/scales.md docs/protocols.md docs/api.md docs/evaluation.md

pytest: $(STAMP)  ## the test suite with coverage (domain held to 100 %)
	$(BIN)/pytest --e2e --cov --cov-context=test --cov-report=term $(PYTEST_ARGS)
	$(BIN)/coverage report --include='src/alscell/domain/*' --fail-under=100

bench: $(STAMP) report-packages  ## benchmarks as ratios against references in the same run (table + bench-results.json)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

SOAK ?= 10
soak: $(STAMP) system-packages  ## the reliability and security tests at SOAK (10) times their size: crashes, load, hostile input
	ALSCELL_SOAK=$(SOAK) $(BIN)/pytest --e2e -p no:cacheprovider tests/reliability tests/web/test_api_stateful.py \
		tests/web/test_openapi_conformance.py tests/web/test_hostile_forms.py \
		tests/web/test_hardening.py tests/web/test_sessions.py tests/e2e/test_xss.py $(PYTEST_ARGS)

format: $(STAMP)  ## fix lint and formatting where the tools can
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

docs: $(STAMP)  ## regenerate the CLI reference from --help
	$(BIN)/cog -r -c docs/cli.md docs/scales.md docs/protocols.md docs/api.md docs/evaluation.md

lock: $(UV)  ## re-resolve dependencies into uv.lock
	$(UV) lock

clean:  ## remove the environments and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked
	touch $@
