# The README's two commands: `make demo` (the main job) and `make test` (every test, then the
# documentation site). `make docs` builds the site alone, into docs/_build/html.
# Each creates .venv and installs the project with what it needs when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs install bench clean

$(STAMP): pyproject.toml
	@# graphviz's `dot` draws computation graphs; installed where we may, optional elsewhere
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
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,torch,docs,playground]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/logreg train --out demo-output

# the Dask tests in a pytest of their own: after the rest of the suite in the same worker
# processes, an in-process Dask cluster's gather sometimes waited forever (issue 12's note)
DASK_TESTS := tests/test_dask.py tests/test_dask_classes.py tests/test_dask_hostile.py

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
