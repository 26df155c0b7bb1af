# The two commands of the README are `make tutorial` and `make test`; the rest are conveniences.
PY := .venv/bin/python
.PHONY: setup tutorial test lint format lab es-start es-stop clean

setup:
	@bash scripts/setup.sh

tutorial: setup
	$(PY) -m helpers tutorial

test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

lab: setup
	$(PY) -m helpers es start
	.venv/bin/jupyter lab notebooks/

es-start: setup
	$(PY) -m helpers es start

es-stop: setup
	$(PY) -m helpers es stop

clean:
	-$(PY) -m helpers es stop
	rm -rf .cache results
