# The project's own set-up: every dependency is installed from these files, never by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser run test schemathesis bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install
	scripts/run.sh

# Debian's Chromium for the browser tests (they skip, saying so, only if it cannot be installed).
browser:
	scripts/install_browser.sh

# The tests run the product under Airflow too: PostgreSQL is prepared as for `make run`.
test: install browser
	scripts/prepare_postgres.sh
	$(BIN)/python -m pytest

# Schemathesis over the whole OpenAPI document, every check, against the app over a synced database.
schemathesis: install
	$(BIN)/python -m pytest -q tests/test_schemathesis.py

bench: install browser
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/request_cost.py
	$(BIN)/python bench/idle.py
	$(BIN)/python bench/freshness.py
	$(BIN)/python bench/handovers.py
	$(BIN)/python bench/source_servers.py freshness
	$(BIN)/python bench/capture.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/pixel.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/history.py

clean:
	rm -rf $(VENV) .pytest_cache
