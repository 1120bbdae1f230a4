# The two Quick start commands (`make run`, `make test`) work on a fresh clone: each makes the
# virtualenv and installs the project first.
VENV ?= .venv
PYTHON ?= python3
# One pytest worker per core; tests that share something outside their own database carry
# @pytest.mark.xdist_group and run on one worker (--dist loadgroup). PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n auto --dist loadgroup
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench lint schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/pointsnet serve --demo --worker

test: lint
	infra/scripts/ensure-postgres.sh
	infra/scripts/ensure-chromium.sh
	infra/scripts/ensure-prometheus.sh
	infra/scripts/ensure-pg-binaries.sh >/dev/null  # throwaway clusters: backups, replica, failover
	infra/scripts/ensure-pgbouncer.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

schema: $(STAMP)
	$(VENV)/bin/pointsnet schema export

bench: $(STAMP)
	infra/scripts/ensure-postgres.sh
	$(VENV)/bin/python -m infra.bench.ledger

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis pointsnet.db*
