# make run: the bot with its embedded defaults (SQLite under var/, in-process queue).
# make test: the test-suite (PostgreSQL/Redis when BIHUAN_DATABASE__URL/BIHUAN_REDIS__URL are set).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A local-only webhook token so that `make run` and `make simulate` agree; never a real secret.
DEV_TOKEN := local-dev-token

.PHONY: run test simulate lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	BIHUAN_WECHAT__TOKEN=$${BIHUAN_WECHAT__TOKEN:-$(DEV_TOKEN)} $(BIN)/bihuan db upgrade
	BIHUAN_WECHAT__TOKEN=$${BIHUAN_WECHAT__TOKEN:-$(DEV_TOKEN)} $(BIN)/bihuan demo
	BIHUAN_WECHAT__TOKEN=$${BIHUAN_WECHAT__TOKEN:-$(DEV_TOKEN)} $(BIN)/bihuan serve

simulate: $(STAMP)
	BIHUAN_WECHAT__TOKEN=$${BIHUAN_WECHAT__TOKEN:-$(DEV_TOKEN)} $(BIN)/bihuan simulate --openid $${OPENID:-o_demo_customer}

# One pytest-xdist worker per core (each with its own database and Redis db); TEST_WORKERS=0
# runs in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot handlers models jobs tests bench gunicorn.conf.py
	$(BIN)/ruff format --check bot handlers models jobs tests bench gunicorn.conf.py
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/inprocess_bench.py
	$(BIN)/python bench/sweep_bench.py --tickets 20000
	$(BIN)/python bench/list_bench.py --tickets 100000
	@echo "Also, on PostgreSQL + Redis (README, the bench/ row of Architecture): notify_bench.py, figures_bench.py, webhook_bench.py (needs wrk and the bench extra), memory_bench.py, fault_bench.py"

clean:
	rm -rf $(VENV) var
