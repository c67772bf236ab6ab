# Two commands on a fresh machine: `make run` and `make test` (see README.md).
# Each creates the virtual environment if it is missing and installs the project into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Keep tools' scratch inside the project.
export MPLCONFIGDIR := $(CURDIR)/.tmp/matplotlib

.PHONY: run test lint browser bench bench-sweep bench-scale typecheck clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## the main job: the baseline projection, and the plan beside it
	$(BIN)/jjj-talent run scenarios/baseline.yaml
	$(BIN)/jjj-talent compare scenarios/baseline.yaml scenarios/plan-2017.yaml --replicates 5 \
		--out outputs/baseline-vs-plan-2017
	@echo "The planners' workbench: $(BIN)/jjj-talent app, then open http://127.0.0.1:8765/"

LINTED := model experiments reports app tests
TYPED := model experiments reports app

# The browser tests (reports' embedded fonts, the app) drive Debian's Chromium: installed here when
# missing and we may (CI runs as root); otherwise they skip, except with CI=true, where they fail.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium is not installed: the browser tests will skip (and fail with CI=true)"

test: $(STAMP) browser  ## lint, format check, the whole test suite (on every core, at most 4), then the type check
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python -m pytest -n auto --maxprocesses 4
	$(BIN)/python -m mypy $(TYPED)

lint: $(STAMP)  ## fix what ruff can fix, and format
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

typecheck: $(STAMP)
	$(BIN)/python -m mypy $(TYPED)

bench: $(STAMP)  ## speed and memory at default scale and at full scale (scale 1)
	$(BIN)/python -m experiments.bench

bench-sweep: $(STAMP)  ## sweep throughput per executor, and one worker's memory over 200 runs (~10 min)
	$(BIN)/python -m experiments.bench_sweep

bench-scale: $(STAMP)  ## default scale (100) against full (1): indicators at 2020/2025/2030, 10 seeds (~15 min)
	$(BIN)/python -m experiments.scale_study

clean:
	rm -rf $(VENV) .tmp .pytest_cache .mypy_cache .ruff_cache
