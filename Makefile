# ekmsync: the two commands a newcomer needs are 'make dev' and 'make test'.
SHELL    := /bin/bash
GO       ?= go
BIN      := .bin
TEMPORAL := $(BIN)/temporal
# The version stamped into every binary (worker --version, starter version, ekmsim
# -version) and used as the worker's build ID: the git tag or commit, else "dev".
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/ekmsync/ekmsync/internal/version.Version=$(VERSION)
# Packages whose tests are fast and concurrent enough to run under the race detector
# on every 'make test'; the integration packages run without it to stay well inside
# the time budget on two cores.
RACE_PKGS := ./internal/ekm/... ./internal/ekmsim/... ./internal/channel/... ./internal/secret/... ./internal/config/...

.PHONY: all tools build dev test lint fmt workflowcheck bench chaos chaos-hostile clean

all: build

# The Temporal CLI (dev server with Web UI), pinned in tools/go.mod and built from the
# Go module proxy (later CLI versions do not build from the proxy).
$(TEMPORAL): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(TEMPORAL) github.com/temporalio/cli/cmd/temporal

tools: $(TEMPORAL)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./worker ./starter ./cmd/ekmsim

# Runs the whole system locally: Temporal dev server with UI, the EKM simulator with a
# demo shop, the database, the worker, the demo channel and its workflows. Ctrl-C stops it all.
dev: tools build
	$(GO) build -o $(BIN)/devstack ./internal/cmd/devstack
	$(BIN)/devstack

# Every test, unit and integration, against the local PostgreSQL and Temporal dev
# servers that the tests start themselves.
test: tools
	$(GO) test -count=1 -timeout 14m -p 2 ./...
	$(GO) test -count=1 -race -timeout 10m $(RACE_PKGS)

# go vet for macOS too: nothing Linux-only may leave build-tagged files.
lint: workflowcheck
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

workflowcheck:
	cd tools && $(GO) build -o ../$(BIN)/workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck
	$(BIN)/workflowcheck ./workflows/...

fmt:
	gofmt -w $$(git ls-files '*.go')

# One table with every benchmark, each beside its goal.
bench: tools build
	$(GO) run ./internal/cmd/bench

# The whole system under faults; exits non-zero on any mismatch between hub and shop.
chaos: tools build
	$(GO) run ./internal/cmd/chaos

# The same with an attacker and a misbehaving shop on top of the faults.
chaos-hostile: tools build
	$(GO) run ./internal/cmd/chaos -hostile

clean:
	rm -rf $(BIN) .test
