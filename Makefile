# ccci-controller — run `make help` for the targets.
#
# Everything runs offline: the sample images are built locally from config/samples/app and the
# sample recipe repository is generated from config/sample-recipe.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Tools and their pinned versions. Go is the toolchain at /usr/local/go (go.mod says which);
# the Ginkgo CLI is built from the ginkgo module version go.mod pins.
export PATH := /usr/local/go/bin:$(PATH)
GO            ?= go
GO_VERSION    := go1.26
GINKGO_VERSION := v2.34.0
GINKGO        := $(GO) run github.com/onsi/ginkgo/v2/ginkgo

# Where the demo keeps its state and the generated sample recipe repository.
STATE_DIR     ?= .state
RESOURCES_DIR ?= config/samples
BIN           := bin/ccci-controller
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Test knobs: the integration suites wait on real Swarm convergence, so give them room.
TEST_TIMEOUT  ?= 30m
BENCHTIME     ?= 3x
# Longer than a test run: at 3x, BenchmarkNightly20 alone is six sweeps of 20 test runs (2-3.5 min each).
BENCH_TIMEOUT ?= 90m
TEST_FLAGS    ?=

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: check-go
check-go: ## Check that the pinned Go toolchain is on PATH
	@v=$$($(GO) env GOVERSION); case "$$v" in $(GO_VERSION)*) ;; \
	  *) echo "need $(GO_VERSION).x, found $$v (Go is expected at /usr/local/go)" >&2; exit 1;; esac

##@ Build

.PHONY: build
build: check-go ## Build bin/ccci-controller
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/ccci-controller

.PHONY: sample-images
sample-images: check-go ## Build the local sample app images ccci-sample-app:1.0, 1.1, 1.2, 2.0 (needs Docker)
	$(GO) run ./hack/sample-images

.PHONY: sample-recipe
sample-recipe: check-go ## Generate the sample recipe git repository in .state/sample-recipe
	$(GO) run ./hack/sample-recipe $(STATE_DIR)/sample-recipe

.PHONY: schema
schema: check-go ## Regenerate the JSON Schemas in config/schema from api/v1 (go generate ./api/v1)
	$(GO) generate ./api/v1

.PHONY: clean
clean: ## Remove build output (not the demo state in .state)
	rm -rf bin _output

##@ Test

.PHONY: test
test: check-go ensure-swarm ## Run every test, unit and integration, as CI does (needs root on a fresh machine)
	GO=$(GO) TEST_TIMEOUT=$(TEST_TIMEOUT) TEST_FLAGS='$(TEST_FLAGS)' hack/test-parallel.sh
	$(MAKE) --no-print-directory test-enginefault
	@# The two rig suites side by side: each builds a swarm of its own (own names, subnet and
	@# dockerd processes) and neither touches the default engine; output comes per suite.
	$(MAKE) --no-print-directory -j2 --output-sync=target test-faults test-multinode

.PHONY: test-multinode
test-multinode: check-go ensure-swarm ## Run the suite on a real 3-node swarm built from ../shared/multinode (torn down afterwards)
	$(GO) test -tags multinode -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/multinode/

.PHONY: test-enginefault
test-enginefault: check-go ensure-swarm ## Restart the Docker daemon under a test run (runs alone: it stops the machine's daemon)
	$(GO) test -tags enginefault -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/enginefault/

.PHONY: test-faults
test-faults: check-go ensure-swarm ## Hang the engine (SIGSTOP), fill the state disk (tmpfs), SIGKILL the daemon 50 times, on a one-node rig of its own (beside test-multinode, whose rig is another)
	$(GO) test -tags faults -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/faults/

.PHONY: test-unit
test-unit: check-go ## Run the unit tests only (no Docker needed)
	$(GO) test -timeout 10m $(TEST_FLAGS) ./...

.PHONY: test-integration
test-integration: check-go ensure-swarm ## Run the integration suites only (test/integration)
	$(GO) test -tags integration -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/integration/...

.PHONY: bench
bench: check-go ensure-swarm ## Run the Go benchmarks, integration and 3-node rig ones included (BENCHTIME=3x by default)
	$(GO) test -tags integration -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout $(BENCH_TIMEOUT) ./...
	$(GO) test -tags multinode -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout $(BENCH_TIMEOUT) ./test/multinode/

.PHONY: ginkgo
ginkgo: check-go ## Run the pinned Ginkgo CLI, e.g. make ginkgo ARGS='-r --tags integration -v ./test/integration'
	$(GINKGO) $(ARGS)

.PHONY: lint
lint: check-go ## Check formatting (gofmt), go vet (with and without the integration tag), validate the samples and check the alert rules (promtool)
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>&1); if [ -n "$$out" ]; then \
	  echo "gofmt needed on:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags enginefault ./test/enginefault/
	$(GO) vet -tags multinode ./test/multinode/
	$(GO) vet -tags faults ./test/faults/
	$(GO) run ./cmd/ccci-controller validate $(RESOURCES_DIR) config/examples
	promtool check rules contrib/prometheus/alerts.yml

.PHONY: validate
validate: build ## Validate the sample resources and examples (exit 2 on an invalid resource)
	$(BIN) validate $(RESOURCES_DIR) config/examples

##@ Run

.PHONY: ensure-swarm
ensure-swarm: ## Install/start Docker and init swarm mode when needed (idempotent)
	hack/ensure-swarm.sh

.PHONY: demo
demo: ensure-swarm sample-images sample-recipe build ## Run the controller on config/samples (state in .state)
	@echo "demo: the controller runs in the foreground (Ctrl-C stops it). From a second terminal in $(CURDIR):"
	@echo "  $(BIN) get; $(BIN) describe wc/sample; $(BIN) plan --all; $(BIN) logs rt/sample"
	$(BIN) run --resources $(RESOURCES_DIR) --state $(STATE_DIR)

.PHONY: run
run: demo ## Same as demo
