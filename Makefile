# Targets: the same locally and in CI. `make` alone lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install test test-fast lint demo bench bench-quick bench-million clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv/ with the project and the `dialer` command

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Most tests wait on processes and HTTP, not on the CPU: more workers than the 2 cores pay off.
# Each worker has its own Redis database (tests/redis_support.py), ports and temporary files;
# a module stays on one worker (loadfile), so its module-scoped fixtures run once.
TEST_WORKERS ?= 4

test: install ## run the whole test suite, in parallel (TEST_WORKERS=4)
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

test-fast: install ## only the tests that start no process or server (no Redis needed)
	$(BIN)/pytest -q -p no:cacheprovider -m "not integration"

lint: install ## ruff, mypy (strict on dialer/, campaigns/, workers/) and the layers' import contract
	$(BIN)/ruff check dialer campaigns workers tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# The simulator runs calls 60x faster than life, so the demo's account limits are raised to match.
demo: install ## run the sample campaign on the built-in simulator, no servers needed
	VOXPRIA_CALL_LIMIT=20/s VOXPRIA_REQUEST_LIMIT=100/s \
	$(BIN)/dialer run examples/contacts.csv --agent agent_demo --simulate \
		--window any --report examples/out/contacts.outcomes.xlsx

bench: install ## measure pacing, API economy, ceiling and scale (under 10 minutes)
	$(BIN)/python -m tests.bench.run

bench-quick: install ## the same benchmark in its quick form (under a minute)
	$(BIN)/python -m tests.bench.run --quick

bench-million: install ## only the million-row figures beside their floors (issue 16)
	$(BIN)/python -m tests.bench.run --only million

clean: ## remove the virtualenv and state
	rm -rf $(VENV) .dialer examples/out
