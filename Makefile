# Tandem — `make demo` and `make test` work on a fresh machine with Python 3.11+ and make.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .venv-uv/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo serve test lint typecheck contracts pytest bench browser clean

$(UV):
	$(PYTHON) -m venv .venv-uv && .venv-uv/bin/pip install --quiet uv

install: $(UV) ## create .venv and install Tandem with its dev tools from uv.lock
	$(UV) sync --frozen --quiet

demo: install ## build the demo dataset and serve it on http://127.0.0.1:8000
	$(BIN)/tandem demo

serve: install
	$(BIN)/tandem serve

lint: install ## ruff lint + format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy src/tandem

contracts: install ## the layer rule of ARCHITECTURE.md
	cd src && ../$(BIN)/lint-imports --config ../pyproject.toml

pytest: install ## the suite on SQLite, then on PostgreSQL when a server answers
	$(BIN)/pytest -q -n 2
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$${TANDEM_TEST_POSTGRES_URL:-postgresql://root@127.0.0.1:5432/postgres}', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== PostgreSQL run =="; \
		TANDEM_DATABASE_URL=$${TANDEM_TEST_POSTGRES_URL:-postgresql://root@127.0.0.1:5432/postgres} $(BIN)/pytest -q -n 2 -m "not browser"; \
	elif [ -n "$$TANDEM_REQUIRE_POSTGRES" ]; then echo "PostgreSQL is required but does not answer" >&2; exit 1; \
	else echo "== PostgreSQL not reachable: skipped the PostgreSQL run =="; fi

test: lint typecheck contracts pytest ## everything CI runs

bench: install ## scale benchmarks with their baselines
	$(BIN)/python -m benchmarks

clean:
	rm -rf .venv .venv-uv var test-artifacts
