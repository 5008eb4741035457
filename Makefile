# diception: `make demo` and `make test` are all a new user needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch==2.13.0 is a CPU wheel on our CI machines; on a GPU machine set TORCH_SPEC (e.g. TORCH_SPEC="torch")
TORCH_SPEC ?= torch==2.13.0
FIXTURE_SRC ?= ../shared/fixtures/official_tiny
CACHE   ?= .cache

.PHONY: setup test lint bench bench-gpu stress demo clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

test: setup
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m ruff format --check src tests benchmarks scripts

bench: setup
	$(PY) benchmarks/bench_inference.py --fixture $(FIXTURE_SRC) --out bench_results/inference.json

# the robustness suite at the hardening issue's full counts (1,000 records killed 5 times per job, 10x fuzzing)
stress: setup
	mkdir -p bench_results
	bash -o pipefail -c 'DICEPTION_STRESS=1 $(PY) -m pytest tests/robustness -q -s -p no:cacheprovider 2>&1 | tee bench_results/stress.txt'

bench-gpu: setup
	$(PY) benchmarks/gpu_bench.py --out bench_results/gpu.json

demo: setup
	$(PY) scripts/demo.py --fixture $(FIXTURE_SRC) --cache $(CACHE) --out outputs/demo

clean:
	rm -rf $(VENV) $(CACHE) outputs bench_results .pytest_cache .ruff_cache
