# Two entry points that work on a fresh machine: `make demo` (compose a piece) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: kern-base demo test test-fast install models serve bench bench-quick bench-jam bench-contention docs clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch is pinned to the CPU build that lies on this kind of machine (a loose pin downloads GBs)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps tinysoundfont==0.3.7
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cadenza compose

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -rs -n 2 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

serve: $(STAMP)
	$(BIN)/cadenza serve

# issue #15's table (benchmarks/results/latest.json): full ~30 minutes (10 CPU minutes per quality pair), quick ~10 minutes
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick

bench-jam: $(STAMP)
	$(BIN)/python benchmarks/jam_latency.py
	$(BIN)/python benchmarks/jam_browser.py
	$(BIN)/python benchmarks/page_speed.py

# issue #24: default `cadenza train` alone and beside 2 busy processes (benchmarks/results/contention.json), ~10 minutes; run it on a quiet machine
bench-contention: $(STAMP)
	$(BIN)/python benchmarks/contention.py

# README figures from benchmarks/results/*.json and the bundled MODEL.json files (tests/test_readme_figures.py checks them)
docs: $(STAMP)
	$(BIN)/python scripts/readme_figures.py --write

models: $(STAMP)
	bash scripts/make_models.sh

# issue #20's base model: prepares the every-score corpus if missing, resumes training (hours on a CPU; run it in the background)
kern-base: $(STAMP)
	bash scripts/kern_base.sh

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info
