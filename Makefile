# The two commands a newcomer needs: `make run` and `make test`.
# Both create the virtualenv from the lock file and, when DATABASE_URL / REDIS_URL are unset,
# start an embedded PostgreSQL and Redis under var/ (see csp_portal/devstack.py).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
DEVSTACK := $(BIN)/python -m csp_portal.devstack
PYTEST_ARGS ?=
# Development defaults for these two commands (production sets its own environment).
export DJANGO_DEBUG ?= true

.PHONY: install run test lint check lock clean seed shell bench

install: $(STAMP)

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(DEVSTACK) run

# Lint, the format check, the migration check and the whole suite, on the embedded servers (or
# the ones named by DATABASE_URL / REDIS_URL). Tests connect as the owner role: it creates the
# test database.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEVSTACK) exec --name test -- sh -c '\
	  export DATABASE_URL="$$DATABASE_OWNER_URL" && \
	  $(BIN)/python manage.py makemigrations --check --dry-run && \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

shell: $(STAMP)
	$(DEVSTACK) exec -- $(BIN)/python manage.py shell

lock:
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# The benchmark (issue 9; not part of `make test`): seeds databases csp_bench_small and
# csp_bench_large, serves them with gunicorn, loads each page with wrk and writes
# bench/results.json and bench/RESULTS.md. BENCH_SCALE=0.1 for a quicker run (bench/__main__.py).
bench: $(STAMP)
	$(DEVSTACK) exec --name bench -- $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var staticfiles
