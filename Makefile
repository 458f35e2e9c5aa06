# make run   - set up what is missing, train if needed, start everything on SQLite
# make test  - set up, train (cached), run every test
# make test-fast - set up, run the unit tier only (no training, no servers)
# make lint  - ruff check (lint only, no reformatting) and mypy (settings in pyproject.toml)
# make run-prod - two Rasa servers sharing PostgreSQL + Redis (DATABASE_URL, REDIS_HOST, REDIS_PORT)
PY := .venv/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup train run shell test test-fast lint validate bench run-prod clean

setup:
	@bash scripts/setup.sh

train: setup
	@$(PY) -m bot.cli train

run: train
	@$(PY) -m bot.cli serve

# Two Rasa servers (5005, 5006) on PostgreSQL + Redis: README "Production profile".
run-prod: train
	@$(PY) -m bot.cli serve --profile prod

shell: train
	@$(PY) -m bot.cli shell

validate: setup
	@.venv/bin/rasa data validate --domain domain.yml --data data/nlu data/rules data/stories --config config.yml

test: train
	@$(PY) -m pytest $(PYTEST_ARGS)

# The unit tier (markers: tests/conftest.py): no model, no servers, no PostgreSQL/Redis, no browser.
test-fast: setup
	@$(PY) -m pytest -m unit $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check bot actions tests bench scripts
	@.venv/bin/mypy

bench: train
	@$(PY) -m bench.run

clean:
	rm -rf models build var .pytest_cache .mypy_cache .ruff_cache
