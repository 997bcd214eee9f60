# FASHIONISTAR — every command a developer or operator needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run serve worker scheduler relay bench bench-tasks test lint migrate seed lock clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@scripts/bootstrap.sh
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies

run: install ## Migrate, seed, serve the API on http://$(HOST):$(PORT) with worker, scheduler, relay, sandbox (restarted if they crash)
	@HOST=$(HOST) PORT=$(PORT) scripts/run.sh

serve: install ## Serve the API only (no worker)
	$(BIN)/granian --interface asginl --host $(HOST) --port $(PORT) config.asgi:application

worker: install ## Run one task worker (QUEUES='*' or e.g. critical; TASK_BACKEND=redis for Redis)
	@scripts/worker.sh

scheduler: install ## Run the recurring-job scheduler (safe to run several)
	$(BIN)/python manage.py run_scheduler

relay: install ## Run the outbox relay: sends enqueues the task backend refused (safe to run several)
	$(BIN)/python manage.py run_relay

bench: install ## HTTP benchmark, app vs bare floor (<15 min); SCENARIOS= CONNECTIONS= DURATION= SKIP_FLOOR=1 SKIP_SEED=1
	@scripts/bench.sh

bench-tasks: install ## Task queue benchmark on Redis: enqueue→start p50/p95 and tasks/s, 2 workers
	$(BIN)/python bench/tasks_bench.py

test: install ## Lint, type-check, contracts, migrations check, and the test suite (SQLite, then PostgreSQL + Redis)
	@scripts/test.sh

.PHONY: mutate
mutate: install ## Mutation testing of the stock and money services, score per module (15-30 min; docs/quality.md)
	@scripts/mutate.sh

.PHONY: fuzz
fuzz: install ## Both OpenAPI documents against the app with many generated requests (FUZZ_EXAMPLES, default 100; not in make test)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -q -p no:cacheprovider apps/common/tests/test_schema_conformance.py

lint: install ## ruff, mypy and the import-layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

migrate: install ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: install ## Load the demo data (safe to repeat)
	$(BIN)/python manage.py seed_demo

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/pip install -q uv && $(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.12 -o requirements.lock

clean: ## Remove the virtualenv and local state (database, emails)
	rm -rf $(VENV) var

.PHONY: deploy-check
deploy-check: install ## Lint and validate deploy/ (hadolint, Kubernetes schemas, compose, alert rules, dashboard)
	$(BIN)/pytest apps/common/tests/test_deploy_*.py apps/common/tests/test_observability_files.py -q -p no:cacheprovider
