# The two set-up commands of the README. Each creates or updates the project's own
# virtual environment (.venv) first, so both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## Render the shipped example rig (drive -> cab) on the shipped DI to out/demo_rig.wav,
## with its picture (out/rig.svg) and a plot of the render (out/demo_rig.png).
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/namgraph render examples/rig/full_rig.nam examples/rig/di.wav out/demo_rig.wav --force
	$(BIN)/namgraph draw examples/rig/full_rig.nam -o out/rig.svg --force
	$(BIN)/namgraph plot examples/rig/di.wav out/demo_rig.wav -o out/demo_rig.png --force

## Run the whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest

## Speed and memory benchmarks (not part of the tests): models, rigs, limits.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_graph.py
	$(BIN)/python benchmarks/bench_limits.py
