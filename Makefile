# The README's two commands: `make demo` (the main job) and `make test` (every test, then the
# documentation site). `make docs` builds the site alone, into docs/_build/html.
# Each creates .venv when missing and installs what it needs, with a stamp of its own: `demo` the
# core package only (pip install -e .: what `logreg train` needs); `test` and `docs` the extras
# on top (dev, docs, playground), Graphviz and Chromium, and PyTorch's CPU-only build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
STAMP := $(VENV)/.installed
# PyTorch for the array-API tests and the benchmark against autograd: the CPU-only build, where
# the package index (or pip's find-links) offers it; never the bare pin, which on a plain index
# is the CUDA build with gigabytes of nvidia-* wheels. Without it those tests skip, saying why.
TORCH_CPU := torch==2.13.0+cpu

.PHONY: demo test docs install bench clean

$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE)

$(STAMP): $(CORE) pyproject.toml
	@# graphviz's `dot` draws computation graphs (the tests, the tutorial, the docs' gallery);
	@# installed where we may, optional elsewhere
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -qq graphviz >/dev/null 2>&1 \
	       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1; }; }; } \
	  || echo "note: graphviz's dot is not installed; 'logreg graph' will write .dot files instead"
	@# Debian's chromium runs the playground's browser tests (Playwright's own download is not
	@# reachable from our machines); installed where we may, the tests say why they skip elsewhere
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -qq chromium >/dev/null 2>&1 \
	       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } \
	  || echo "note: chromium is not installed; the playground's browser tests will be skipped"
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,playground]'
	@$(BIN)/python -m pip install --quiet '$(TORCH_CPU)' >/dev/null 2>&1 \
	  || echo "note: the package index offers no CPU-only PyTorch ($(TORCH_CPU)); its tests will be skipped"
	touch $(STAMP)

install: $(STAMP)

demo: $(CORE)
	$(BIN)/logreg train --out demo-output

# the Dask tests in a pytest of their own: after the rest of the suite in the same worker
# processes, an in-process Dask cluster's gather sometimes waited forever (issue 12's note)
DASK_TESTS := tests/apps/test_dask.py tests/apps/test_dask_commands.py tests/apps/test_dask_hostile.py

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q $(addprefix --ignore=,$(DASK_TESTS))
	$(BIN)/python -m pytest -n 2 -q $(DASK_TESTS)
	$(MAKE) docs

# the site from a clean environment (-E -a), so every page's warnings are seen again; -W: any
# warning (a broken reference, a public name without a docstring) fails it. The tutorial is
# executed and the gallery's commands run at every build (docs/about.md).
docs: $(STAMP)
	$(BIN)/sphinx-build -E -a -W --keep-going -n -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# benchmarks unset OPENBLAS_CORETYPE, which slows current NumPy on these machines (see run.py)
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis docs/_build
