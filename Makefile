# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test test-fast install install-test lint format translations demo clean schema messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# The message catalogues are compiled after the install (pybabel comes with it), in order.
install: $(VENV)/.installed
	@$(MAKE) --no-print-directory translations
install-test: $(VENV)/.installed-test
	@$(MAKE) --no-print-directory translations

translations:
	@if [ -d deliberation/translations ]; then $(BIN)/pybabel -q compile -d deliberation/translations; fi

demo: install
	$(FLASK) db upgrade
	$(FLASK) load-demo

run: demo
	PORT=$(PORT) $(BIN)/python app.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Test files run side by side, one worker per core (at most 4): most tests wait on a server, a
# browser or LibreOffice rather than compute. A file's tests stay together on one worker.
test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadfile

# The unit tier only (no database, socket, process nor browser): seconds, while working.
test-fast: install-test
	$(BIN)/python -m pytest -m unit -q

clean:
	rm -rf $(VENV) instance/*.sqlite* .pytest_cache

# Until the first release there is one migration: regenerate it after a model change.
schema: install
	rm -f migrations/versions/*_initial_schema.py
	tmp=$$(mktemp -d) && DATABASE_URL=sqlite:///$$tmp/schema.sqlite $(FLASK) db migrate -m "initial schema" >/dev/null && rm -rf $$tmp
	$(BIN)/ruff format -q migrations

# Refresh the message catalogues after changing UI strings (msgids are English).
messages: install
	$(BIN)/pybabel -q extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o deliberation/messages.pot .
	$(BIN)/pybabel -q update -i deliberation/messages.pot -d deliberation/translations -N
