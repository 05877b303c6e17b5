# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	@echo "== creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on --upgrade pip

# Reinstall whenever the declared dependencies change. `make run` needs the runtime only;
# `make test` adds the test and lint tools (the dev extra). pip shows its progress.
$(RUNTIME): pyproject.toml | $(BIN)/python
	@echo "== installing phaseone and its runtime dependencies into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	@echo "== installing the test and lint tools (the dev extra)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	touch $(DEV)

run: $(RUNTIME)
	$(BIN)/phaseone demo

test: $(DEV) lint typecheck pytest

lint: $(DEV)
	$(BIN)/ruff check src tests bench

typecheck: $(DEV)
	$(BIN)/mypy

pytest: $(DEV)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(DEV)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
