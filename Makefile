# CXHub: `make demo` runs the product, `make test` passes the tests. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo serve test lint fmt bench bench-quick migrate worker beat clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_logins
	$(PY) manage.py runserver 127.0.0.1:8000

serve: install
	$(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy .

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

# Every figure of the bench at 10,000 responses (a few minutes): that they are produced, not how fast.
bench-quick: install
	$(PY) -m bench --quick --database-url $${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cxhub_bench_quick} --json bench-quick-results.json $(BENCH_ARGS)

worker: install
	$(VENV)/bin/celery -A cxhub worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A cxhub beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
