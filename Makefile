# OptiInfra E2E harness. `make help` lists the targets.
# Every target that needs Docker first runs scripts/ensure-docker.sh (provisions an engine on
# a bare Debian machine as root; elsewhere says what to install).

SHELL := /bin/bash
PY := .venv/bin/python
PYTEST := $(PY) -m pytest
E2E_PORT_OFFSET ?= 1
export E2E_PORT_OFFSET
# pytest-xdist workers for the e2e suite (one shared stack); most of a scenario's time is
# waiting on the platform, so 4 beat 2 even on 2 cores (README: Figures).
E2E_WORKERS ?= 4
# test-all runs its own stack (platform under coverage) beside any running one
COVERAGE_PORT_OFFSET ?= 400
# validate-rc runs its own stack (project optiinfra-e2e-rc) beside any running one
RC_PORT_OFFSET ?= 700
RC_PROJECT ?= optiinfra-e2e-rc
# the nightly job (scripts/nightly.sh): shards, each on its own stack at offset
# NIGHTLY_PORT_BASE + 100*i; side by side (1) or one after another (0)
NIGHTLY_SHARDS ?= 3
NIGHTLY_PARALLEL ?= 1
NIGHTLY_PORT_BASE ?= 500
export NIGHTLY_SHARDS NIGHTLY_PARALLEL NIGHTLY_PORT_BASE

.PHONY: help setup docker chromium venv images start-test-env stop-test-env health-check logs \
        test test-unit test-fast test-e2e test-all test-security test-remote-engine test-rc-proofs \
        bench-stack \
        bench-cold \
        lint clean mutation mutation-history \
        validate-rc \
        nightly nightly-shard merge-reports durations images-load images-save

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

docker:  ## make sure a Docker engine + Compose v2 answer (provision one if needed)
	@bash scripts/ensure-docker.sh

chromium:  ## make sure Debian's chromium answers (the browser lane drives it); installed if missing
	@bash scripts/ensure-chromium.sh

.venv/.stamp: requirements-test.txt pyproject.toml
	@echo "[setup] creating .venv with the harness and its test dependencies..."
	@bash scripts/venv.sh
	@touch $@

venv: .venv/.stamp  ## python virtualenv only (no Docker needed)

# setup and images run their independent steps side by side (scripts/prepare.sh: engine then
# base image, virtualenv, chromium, wheelhouse) and print each step's time.
setup:  ## engine + virtualenv + chromium (side by side): everything the other targets need
	@bash scripts/prepare.sh setup

images:  ## engine, venv, chromium, wheelhouse, base image side by side, then every image (cached)
	@bash scripts/prepare.sh images

# E2E_TARGET=images (E2E_IMAGE_TAG or E2E_IMAGE_ARCHIVE): the given images, nothing built
start-test-env: $(if $(filter images,$(E2E_TARGET)),setup,images)  ## start the stack and wait until every service is healthy
	@$(PY) -m harness up --no-build

stop-test-env: setup  ## remove the stack's containers, networks and volumes
	@$(PY) -m harness down

health-check: setup  ## table of services; non-zero exit when anything is unhealthy
	@$(PY) -m harness status

logs: setup  ## logs of every service (SERVICE=name for one)
	@$(PY) -m harness logs $(SERVICE)

test-unit: venv  ## fast tests, no Docker
	@$(PYTEST) tests -q -p no:randomly

test-e2e: images  ## end-to-end scenarios (reuses a running stack, else starts and removes one)
	@bash scripts/run-e2e.sh $(PYTEST_ARGS)

test-security: images  ## the security lane alone (scenarios/security): fuzzing, auth and tenant matrices, abuse probes
	@E2E_MARK="security" bash scripts/run-e2e.sh $(PYTEST_ARGS)

test-fast: images  ## everything but tests marked slow
	@$(PYTEST) tests -q -p no:randomly
	@E2E_MARK="not slow" bash scripts/run-e2e.sh $(PYTEST_ARGS)

test-all: images  ## every test on a fresh stack whose platform runs under coverage; reports in artifacts/
	@rm -rf artifacts/coverage && mkdir -p artifacts/coverage
	@# The CLI starts the stack (its progress shows live; under xdist a worker would start it
	@# silently); the services write their coverage data when `down` stops them.
	@# Each test's start and end (harness/mutation/_windows.py) with the services' per-second
	@# coverage contexts make mutants/coverage-map.json: which scenario ran which line.
	@export E2E_PROJECT=optiinfra-e2e-coverage E2E_PORT_OFFSET=$(COVERAGE_PORT_OFFSET) \
	  E2E_COMPOSE_FILE=docker-compose.e2e.yml:compose/coverage.override.yml \
	  E2E_TEST_WINDOWS=$(CURDIR)/artifacts/coverage/test-windows.jsonl; \
	  trap '$(PY) -m harness down' EXIT; \
	  $(PY) -m harness down && $(PY) -m harness up --no-build || exit $$?; \
	  $(PYTEST) tests scenarios -m "not serial" -n $(E2E_WORKERS) --no-build \
	  -p harness.mutation._windows --junitxml=artifacts/junit.xml --html=artifacts/report.html --self-contained-html $(PYTEST_ARGS); \
	  status=$$?; trap - EXIT; $(PY) -m harness down; \
	  $(PY) scripts/platform_coverage.py artifacts/coverage; exit $$status

test: images  ## the README's test command (CI): unit tests, then e2e on a fresh stack, then leftovers check
	@# One run id: the fast and e2e sessions write one summary and traceability matrix.
	@export E2E_RUN_ID=$${E2E_RUN_ID:-$$(date -u +%Y%m%dT%H%M%SZ)-test-$$$$}; \
	  $(PYTEST) tests -q -p no:randomly && bash scripts/run-e2e.sh $(PYTEST_ARGS) \
	  && bash scripts/check-leftovers.sh

mutation: images  ## mutants/ against the e2e suite on a running stack: kill rate, controls, s/mutant
	@# MUTANTS="name ..." picks patches; MUTATION_ARGS="--timeout 300 --workers 1" passes options.
	@# A running stack (E2E_PROJECT, E2E_PORT_OFFSET) is reused and keeps running; one started
	@# here is removed at the end, also on failure or Ctrl-C.
	@was_up=0; $(PY) -m harness status >/dev/null 2>&1 && was_up=1; \
	  if [ $$was_up = 0 ]; then trap '$(PY) -m harness down' EXIT; \
	    $(PY) -m harness up --no-build || exit $$?; fi; \
	  $(PY) -m harness mutate $(MUTANTS) $(MUTATION_ARGS)

mutation-history: venv  ## refresh mutants/kill-history.json from the newest mutation run (REPORT=path/mutation.json); commit it
	@$(PY) -m harness mutate-history $(REPORT)

nightly: images  ## the nightly job here: NIGHTLY_SHARDS shards on their own stacks, one retry (FLAKY), merged report
	@bash scripts/nightly.sh $(PYTEST_ARGS)

nightly-shard: images  ## one shard (NIGHTLY_GROUP of NIGHTLY_SHARDS) on its own stack: a nightly CI runner's job
	@bash scripts/nightly-shard.sh $(PYTEST_ARGS)

merge-reports: venv  ## one run's reports from the shards' artifacts folders: make merge-reports SHARD_DIRS="a b c"
	@$(PY) -m harness merge-reports $(SHARD_DIRS)

durations: venv  ## refresh .test_durations (pytest-split) from artifacts/latest/records.json; commit it
	@$(PY) -m harness durations

# CI's image caches (.github/workflows/nightly.yml): docker save archives keyed on their inputs
IMAGE_CACHE ?= .e2e/cache
images-load: docker  ## load cached base and built images (a missing archive is a cache miss)
	@bash scripts/image-cache.sh load $(IMAGE_CACHE)/base.tar
	@bash scripts/image-cache.sh load $(IMAGE_CACHE)/images.tar

images-save: images  ## save the base and built images as docker save archives for CI's cache
	@bash scripts/image-cache.sh save base $(IMAGE_CACHE)/base.tar
	@bash scripts/image-cache.sh save images $(IMAGE_CACHE)/images.tar

validate-rc: venv  ## RC=<tag | docker-save archive | targets/x.toml | source>: whole suite, then GO/NO-GO verdict
	@[ -n "$(RC)" ] || { echo "usage: make validate-rc RC=<tag | archive | target file | source>" >&2; exit 2; }
	@# Nothing is built for a tag or an archive; a url target file makes no Docker call.
	@E2E_PROJECT=$(RC_PROJECT) E2E_PORT_OFFSET=$(RC_PORT_OFFSET) \
	  $(PY) -m harness validate-rc "$(RC)" --workers $(E2E_WORKERS) --pytest-args "$(PYTEST_ARGS)"

# The remote-engine lane (scenarios/stack/test_remote_engine.py, about 3 min): a private
# second dockerd on tcp://127.0.0.2:23750 (scripts/private-engine.sh), images loaded into it, a
# stack and scenarios on it; everything removed after. Not in `make test`; in `make nightly`.
test-remote-engine: images  ## the stack and scenarios on a second, private Docker engine (remote-engine lane)
	@$(PYTEST) scenarios/stack/test_remote_engine.py -m remote_engine -p no:randomly $(PYTEST_ARGS)

# validate-rc's own e2e proofs (scenarios/targets/test_images_target.py): a docker save archive
# is GO with nothing built; a broken image set is NO-GO (both also run in `make test`).
test-rc-proofs: images  ## validate-rc's proofs: archive GO, broken image set NO-GO (own stacks)
	@$(PYTEST) scenarios/targets/test_images_target.py -p no:randomly $(PYTEST_ARGS)

nightly: export E2E_REMOTE_ENGINE = 1

# Cold start (fresh clone, engine with no image) to all healthy, each step beside the baseline
# in benchmarks/cold-start.txt. Default: a private engine with an empty data root; this
# machine's engine and images are left alone. BENCH_COLD_DESTRUCTIVE=1 stops this machine's
# engine and removes its optiinfra-e2e images first (a warning, 10 s to cancel).
BENCH_COLD_PROJECT ?= optiinfra-e2e-bench-cold
BENCH_COLD_PORT_OFFSET ?= 600
bench-cold:  ## cold start to all-healthy in a fresh clone on an empty engine; each step vs the baseline
	@E2E_PROJECT=$(BENCH_COLD_PROJECT) E2E_PORT_OFFSET=$(BENCH_COLD_PORT_OFFSET) bash scripts/bench-cold.sh

bench-stack: images  ## warm time-to-healthy (harness vs plain compose), teardown, memory
	@$(PY) scripts/bench_stack.py

lint: venv  ## ruff + mypy
	@$(PY) -m ruff check harness tests scenarios optiinfra
	@$(PY) -m mypy harness

clean: ## stop the stack and remove local build state (.venv, wheelhouse, artifacts)
	-@[ -x $(PY) ] && docker info >/dev/null 2>&1 && $(PY) -m harness down
	rm -rf .venv .wheelhouse artifacts .e2e
